/**
 * How a command's core speaks to the person running it. Cores never write to stdout or stderr
 * themselves: the CLI hands them a Reporter, so the same core can be driven from a test (which
 * captures what was said) or embedded in another program.
 *
 * The split follows the Unix convention the commands promise: the answer goes to stdout, where a
 * pipe or `--json` consumer reads it; progress and notes go to stderr, for the person watching.
 */
export interface Reporter {
  /** The command's answer (a table, a JSON document). Written as given, plus a newline. */
  result(text: string): void;
  /**
   * A long answer written piece by piece (millions of records): written as given, and resolves
   * once the output can take more, so a slow reader holds the writer back instead of memory filling.
   */
  resultPiece(text: string): Promise<void>;
  /** Progress, notes and warnings for the person watching. One message, a newline added. */
  note(text: string): void;
  /**
   * Where live progress (the run's task list, a level's progress line) may draw. A terminal
   * gets redrawn lines; anything else gets plain lines.
   */
  readonly progress: NodeJS.WriteStream;
}

/** The real one: stdout and stderr of this process. */
export function consoleReporter(): Reporter {
  return {
    result: (text) => {
      process.stdout.write(`${text}\n`);
    },
    resultPiece: (text) =>
      new Promise((resolve) => {
        if (process.stdout.write(text)) resolve();
        else process.stdout.once("drain", () => resolve());
      }),
    note: (text) => {
      process.stderr.write(`${text}\n`);
    },
    progress: process.stderr,
  };
}
