/**
 * Ctrl-C handling shared by every long-running command. The first SIGINT/SIGTERM asks for a
 * graceful stop (`graceful` aborts: stop issuing work, save what was measured, tear down); the
 * second asks to stop waiting (`urgent` aborts: skip drains, but still send terminate calls); the
 * third gives up and exits at once, because a user pressing Ctrl-C three times means it.
 */
export interface Interruption {
  /** Aborted on the first signal. */
  readonly graceful: AbortSignal;
  /** Aborted on the second signal. */
  readonly urgent: AbortSignal;
  /** Stop listening for signals (tests, and commands that finished). */
  dispose(): void;
}

export function listenForInterrupts(
  onSignal: (count: number, signal: NodeJS.Signals) => void = () => {},
  proc: NodeJS.Process = process,
): Interruption {
  const graceful = new AbortController();
  const urgent = new AbortController();
  let count = 0;
  const handler = (signal: NodeJS.Signals) => {
    count += 1;
    onSignal(count, signal);
    if (count === 1) graceful.abort(signal);
    else if (count === 2) urgent.abort(signal);
    else proc.exit(130);
  };
  proc.on("SIGINT", handler);
  proc.on("SIGTERM", handler);
  return {
    graceful: graceful.signal,
    urgent: urgent.signal,
    dispose() {
      proc.off("SIGINT", handler);
      proc.off("SIGTERM", handler);
    },
  };
}
