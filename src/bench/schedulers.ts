import type { Random } from "../random.js";

/**
 * When requests are issued. Closed loop: `concurrency` requests in flight at all times, each
 * finished request immediately replaced. Open loop: arrivals at a target rate on an absolute
 * schedule (Poisson by default, gamma for burstiness ≠ 1, constant spacing for burstiness ∞),
 * so a late wake-up never shifts the arrivals after it: relative sleeps drift below the target
 * rate, which is how vLLM once reached 183.5 of 200 req/s.
 */

export interface Issue {
  index: number;
  warmup: boolean;
  /** Open loop: the planned send time (ms, the loop's clock). */
  scheduledAt?: number;
}

/** Sends one request and resolves when it is over (successful or not). */
export type IssueFn = (issue: Issue) => Promise<void>;

export interface LoopTimes {
  /**
   * The steady state began: target in flight reached (closed loop), and the warm-up over, every
   * warm-up request finished. Not merely issued: warm-up tokens are left out of the throughput,
   * so a window that began while warm-up requests still streamed would count their time and not
   * their tokens, and read low (by 14% at 32 streams of 5,000-token prompts, whose prefills
   * finish staggered over a third of a second).
   */
  steadyFrom: number;
  /** The last request was issued. */
  steadyUntil: number;
  issued: number;
}

interface CommonOptions {
  /** Requests to measure; undefined with `deadline` for duration runs. */
  count?: number;
  /** Stop issuing at this time (ms, the loop's clock). */
  deadline?: number;
  /** Requests issued first and excluded from the statistics. */
  warmup: number;
  issue: IssueFn;
  /** Aborted: issue nothing more (requests in flight are the caller's business). */
  stop: AbortSignal;
  now: () => number;
  /**
   * Open loop and replay: called with the wait (ms) before each send that is not due yet, so the
   * caller can use the room (idle-gc.ts).
   */
  beforeWait?: (gapMs: number) => void;
}

export async function closedLoop(options: CommonOptions & { concurrency: number }): Promise<LoopTimes> {
  const { concurrency, warmup, issue, stop, now } = options;
  const total = options.count === undefined ? undefined : warmup + options.count;
  let next = 0;
  let inFlight = 0;
  let targetReachedAt: number | undefined;
  let firstMeasuredAt: number | undefined;
  let warmupDoneAt = Number.NEGATIVE_INFINITY;
  let lastIssuedAt = now();
  const more = () =>
    !stop.aborted &&
    (total === undefined || next < total) &&
    (options.deadline === undefined || now() < options.deadline);

  const worker = async () => {
    while (more()) {
      const index = next++;
      inFlight += 1;
      lastIssuedAt = now();
      if (targetReachedAt === undefined && inFlight === concurrency) targetReachedAt = lastIssuedAt;
      if (index === warmup) firstMeasuredAt = lastIssuedAt;
      await issue({ index, warmup: index < warmup });
      inFlight -= 1;
      if (index < warmup) warmupDoneAt = Math.max(warmupDoneAt, now());
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const steadyFrom = Math.max(targetReachedAt ?? lastIssuedAt, firstMeasuredAt ?? lastIssuedAt, warmupDoneAt);
  return { steadyFrom, steadyUntil: lastIssuedAt, issued: next };
}

export type Arrivals = "poisson" | "gamma" | "constant";

export function arrivalsFor(burstiness: number): Arrivals {
  if (burstiness === Number.POSITIVE_INFINITY) return "constant";
  return burstiness === 1 ? "poisson" : "gamma";
}

/**
 * Gaps between arrivals in ms for a rate in req/s: gamma with shape = burstiness and mean 1/rate
 * (vLLM's definition; shape 1 is exponential, i.e. Poisson arrivals), or exactly 1/rate.
 */
export function nextGapMs(rate: number, burstiness: number, rng: Random): number {
  if (!(rate > 0) || !(burstiness > 0))
    throw new RangeError(`bad arrival process: rate ${rate}, burstiness ${burstiness}`);
  const meanMs = 1000 / rate;
  const kind = arrivalsFor(burstiness);
  if (kind === "constant") return meanMs;
  if (kind === "poisson") return rng.exponential(meanMs);
  return rng.gamma(burstiness, meanMs / burstiness);
}

export async function openLoop(
  options: CommonOptions & { rate: number; burstiness: number; rng: Random; start: number },
): Promise<LoopTimes> {
  const { rate, burstiness, rng } = options;
  let offset = 0;
  return scheduledLoop(options, (index) => {
    if (index > 0) offset += nextGapMs(rate, burstiness, rng);
    return offset;
  });
}

/**
 * A trace replayed: request i is sent `sendAtMs[i]` ms after `start` (the same absolute schedule
 * as the open loop), until the list ends.
 */
export function replayLoop(
  options: CommonOptions & { sendAtMs: ArrayLike<number>; start: number },
): Promise<LoopTimes> {
  const { sendAtMs } = options;
  return scheduledLoop(options, (index) => (index < sendAtMs.length ? sendAtMs[index] : undefined));
}

/**
 * Sends request i at start + offsetOf(i) (ms; undefined: no more requests), on an absolute
 * schedule, without waiting for earlier requests to finish.
 */
async function scheduledLoop(
  options: CommonOptions & { start: number },
  offsetOf: (index: number) => number | undefined,
): Promise<LoopTimes> {
  const { warmup, issue, stop, now } = options;
  const total = options.count === undefined ? undefined : warmup + options.count;
  const inFlight = new Set<Promise<void>>();
  let index = 0;
  let firstMeasuredAt: number | undefined;
  let warmupDoneAt = Number.NEGATIVE_INFINITY;
  let lastIssuedAt = now();
  while (!stop.aborted && (total === undefined || index < total)) {
    const offset = offsetOf(index);
    if (offset === undefined) break;
    const scheduled = options.start + offset;
    if (options.deadline !== undefined && scheduled >= options.deadline) break;
    if (options.beforeWait) {
      const gap = scheduled - now();
      if (gap > 0) options.beforeWait(gap);
    }
    await sleepUntil(scheduled, now, stop);
    if (stop.aborted) break;
    lastIssuedAt = now();
    if (index === warmup) firstMeasuredAt = lastIssuedAt;
    const isWarmup = index < warmup;
    const request = issue({ index, warmup: isWarmup, scheduledAt: scheduled });
    inFlight.add(request);
    void request.finally(() => {
      inFlight.delete(request);
      if (isWarmup) warmupDoneAt = Math.max(warmupDoneAt, now());
    });
    index += 1;
  }
  await Promise.all(inFlight);
  return {
    steadyFrom: Math.max(firstMeasuredAt ?? lastIssuedAt, warmupDoneAt),
    steadyUntil: lastIssuedAt,
    issued: index,
  };
}

/**
 * Resolves at time `t` or just after, never before (or at once if it has passed, or when `stop`
 * aborts). Timers count whole milliseconds from a cached loop time, so one can fire a fraction
 * of a millisecond early; the loop waits again for the rest.
 */
export async function sleepUntil(t: number, now: () => number, stop?: AbortSignal): Promise<void> {
  for (let wait = t - now(); wait > 0 && !stop?.aborted; wait = t - now()) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.ceil(wait));
      function done() {
        clearTimeout(timer);
        stop?.removeEventListener("abort", done);
        resolve();
      }
      stop?.addEventListener("abort", done, { once: true });
    });
  }
}
