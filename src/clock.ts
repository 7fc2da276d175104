import { setTimeout as delay } from "node:timers/promises";

/**
 * Time, injected wherever code waits or timestamps, so tests can run it in virtual time (exact,
 * instant). The simulator's engine and ingress never read the wall clock or call setTimeout
 * themselves; the run's deadline waits sleep on the same interface.
 */

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds on this clock's own scale; compare readings of one clock only. */
  now(): number;
  /** Runs `fn` once at `time` (or as soon as possible when `time` is past). */
  at(time: number, fn: () => void): TimerHandle;
  /** Resolves after `ms`; rejects with an AbortError (cause: the signal's reason) when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Converts a `now()` reading to epoch milliseconds, so other processes can compare times. */
  toEpochMs(time: number): number;
}

function realTime(now: () => number, toEpochMs: (time: number) => number): Clock {
  return {
    now,
    at(time, fn) {
      const timer = setTimeout(fn, Math.max(0, time - now()));
      return { cancel: () => clearTimeout(timer) };
    },
    sleep: (ms, signal) => delay(ms, undefined, signal ? { signal } : {}),
    toEpochMs,
  };
}

/**
 * Epoch milliseconds (Date.now()): for deadlines, which the run shares with targets and other
 * processes as epoch times.
 */
export const wallClock: Clock = realTime(
  () => Date.now(),
  (time) => time,
);

/**
 * Monotonic sub-millisecond time (performance.now()): for the simulator's token timing, which a
 * wall-clock step (NTP) or 1 ms resolution would distort.
 */
export const monotonicClock: Clock = realTime(
  () => performance.now(),
  (time) => performance.timeOrigin + time,
);

/**
 * The epoch time (ms) of this process's performance.now() zero, read from the wall clock now.
 *
 * Processes that meet at an epoch instant (the bench clients at a level's barrier) each turn it
 * into their own monotonic clock. `performance.timeOrigin` does that with the wall clock as it
 * read when the process started, so a process that has lived a while can disagree with one just
 * started by however far the wall clock was slewed meanwhile (NTP). Read now, the wall clock is
 * one clock for every process on the machine. Date.now() counts whole milliseconds, so this waits
 * for it to tick and pairs the tick with performance.now(), which is good to microseconds unless
 * the process was descheduled in between; that can only make the result too small, so the
 * largest of a few ticks (about 3 ms of waiting) is taken.
 */
export function epochOfMonotonicZero(): number {
  let best = Number.NEGATIVE_INFINITY;
  let previous = Date.now();
  for (let ticks = 0; ticks < CALIBRATION_TICKS; ) {
    const wall = Date.now();
    if (wall === previous) continue;
    best = Math.max(best, wall - performance.now());
    previous = wall;
    ticks += 1;
  }
  return best;
}

const CALIBRATION_TICKS = 3;

interface VirtualTimer {
  time: number;
  order: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * Virtual time for tests and closed-form checks: timers run in (time, creation) order when the
 * test advances the clock; nothing ever waits for real.
 */
export class VirtualClock implements Clock {
  private current: number;
  private readonly heap: VirtualTimer[] = [];
  private created = 0;

  constructor(
    start = 0,
    private readonly epochOrigin = 1_700_000_000_000,
  ) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  toEpochMs(time: number): number {
    return this.epochOrigin + time;
  }

  at(time: number, fn: () => void): TimerHandle {
    const timer: VirtualTimer = {
      time: Math.max(time, this.current),
      order: this.created++,
      fn,
      cancelled: false,
    };
    this.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(abortError(signal));
      const onAbort = () => {
        timer.cancel();
        reject(abortError(signal));
      };
      const timer = this.at(this.current + ms, () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      });
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Runs every timer due up to `time`, in order, then sets the clock to `time`. */
  advanceTo(time: number): void {
    for (;;) {
      const next = this.heap[0];
      if (!next || next.time > time) break;
      this.pop();
      if (next.cancelled) continue;
      this.current = next.time;
      next.fn();
    }
    this.current = Math.max(this.current, time);
  }

  advanceBy(ms: number): void {
    this.advanceTo(this.current + ms);
  }

  /** Runs timers until none are left or `limit` (a time) is reached; returns the time reached. */
  runUntilIdle(limit = Number.POSITIVE_INFINITY): number {
    for (;;) {
      const next = this.heap[0];
      if (!next || next.time > limit) return this.current;
      this.advanceTo(next.time);
    }
  }

  pendingTimers(): number {
    return this.heap.filter((t) => !t.cancelled).length;
  }

  private push(timer: VirtualTimer): void {
    const heap = this.heap;
    heap.push(timer);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop()!;
    if (heap.length === 0) return;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < heap.length && before(heap[left]!, heap[smallest]!)) smallest = left;
      if (right < heap.length && before(heap[right]!, heap[smallest]!)) smallest = right;
      if (smallest === i) return;
      [heap[i], heap[smallest]] = [heap[smallest]!, heap[i]!];
      i = smallest;
    }
  }
}

/** The error node:timers/promises rejects an aborted sleep with, so both clocks fail alike. */
function abortError(signal: AbortSignal | undefined): Error {
  const error = new Error("The operation was aborted", { cause: signal?.reason });
  return Object.assign(error, { name: "AbortError", code: "ABORT_ERR" });
}

function before(a: VirtualTimer, b: VirtualTimer): boolean {
  return a.time < b.time || (a.time === b.time && a.order < b.order);
}
