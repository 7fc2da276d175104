import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type IntervalHistogram, monitorEventLoopDelay, performance } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import { epochOfMonotonicZero } from "../../src/clock.js";

/**
 * Margins for timing assertions that must hold on a loaded machine (a busy 2-core CI runner).
 *
 * A timer or a network read in a Node process can only be late because the process could not run
 * its event loop: its own code kept the loop busy, or the OS gave the CPU to someone else. Both
 * show up in the loop lag the process measures while it happens. So instead of a fixed bound such
 * as "within 15 ms", a test asserts "within the lag measured during this test, plus a small
 * slack for what no monitor sees": tight on an idle machine, wide only while the machine really
 * was starved, and a deliberate delay in the code under test (which is not lag) still fails.
 */

/**
 * What the lag monitors cannot see: a loopback delivery and the syscalls around it, a timer
 * rounded up to the next whole millisecond from a cached loop time, and the work of the one loop
 * turn that handles the event. Each of these is well under a millisecond on an idle machine.
 */
export const SLACK_MS = 5;

/**
 * Two processes on one machine put their monotonic clocks on the epoch each with its own reading
 * of the wall clock: the bench's processes at each level (src/clock.ts, to microseconds unless a
 * reading is descheduled), others through `performance.timeOrigin`, read at start-up and off by
 * however far the wall clock was slewed since. A causal order across processes holds only within
 * this much.
 */
export const CROSS_PROCESS_CLOCK_MS = 1;

/** Sampling period of the watch (ms): a stall shorter than this is covered by `SLACK_MS`. */
const RESOLUTION_MS = 2;

/**
 * The resolution of the loop-lag monitor of a bench part (src/bench/client-health.ts), which
 * subtracts it from its figures; added back, a part's `event_loop_lag_max_ms` bounds how long it
 * went without running its loop.
 */
const PART_RESOLUTION_MS = 5;

export interface LoopLagWatch {
  /**
   * The longest time (ms) this process went without running a timer since the watch started: an
   * upper bound on how late any of its timers fired or any of its network reads was handled, up
   * to `SLACK_MS`.
   */
  maxMs(): number;
  stop(): void;
}

/**
 * Watches this process's event loop from now on. Start it before the work it is to cover: the
 * monitor counts intervals between its own ticks, so it is blind until its first tick.
 */
export function watchLoopLag(): LoopLagWatch {
  const histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  histogram.enable();
  return {
    // The histogram holds whole sampling intervals (each at least RESOLUTION_MS long), so its
    // max already counts the period in which a stall may have begun unseen.
    maxMs: () => (histogram.count === 0 ? RESOLUTION_MS : histogram.max / 1e6),
    stop: () => histogram.disable(),
  };
}

/**
 * The same bound for a bench part, from the lag it measured itself over the level (the `client`
 * block of its part JSON, `partK/<level>.json`).
 */
export function partLagMs(partJson: { client?: { event_loop_lag_max_ms?: unknown } }): number {
  const measured = partJson.client?.event_loop_lag_max_ms;
  if (typeof measured !== "number") throw new Error("part JSON without client.event_loop_lag_max_ms");
  return measured + PART_RESOLUTION_MS;
}

/** A margin for an event that crosses the given loops (each lag in ms), one slack for the lot. */
export function lagMargin(...lagsMs: number[]): number {
  return lagsMs.reduce((sum, lag) => sum + lag, SLACK_MS);
}

/**
 * CPU use of another process's main thread, from Linux's /proc/PID/schedstat: time on a CPU and
 * time runnable but waiting for one, in ms. Undefined where there is no such file (not Linux, or
 * the process is gone).
 */
export interface ThreadTimes {
  /** Epoch ms just before and just after the file was read: the reading lies in between. */
  readFrom: number;
  readTo: number;
  runningMs: number;
  waitingMs: number;
}

export function threadTimes(pid: number): ThreadTimes | undefined {
  const readFrom = epochNow();
  try {
    const [running, waiting] = readFileSync(`/proc/${pid}/schedstat`, "utf8").trim().split(" ").map(Number);
    if (running === undefined || waiting === undefined || Number.isNaN(running + waiting)) return undefined;
    return { readFrom, readTo: epochNow(), runningMs: running / 1e6, waitingMs: waiting / 1e6 };
  } catch {
    return undefined;
  }
}

/**
 * Samples other processes' main threads every couple of milliseconds, so a test can ask, after
 * the fact, how long a process was busy or waiting for a CPU over an interval. A sleeping process
 * that wakes late was, in between, either running (its own work) or waiting for a CPU (the
 * machine's load); time in neither is time it chose to wait, which no load excuses.
 */
export class ThreadSampler {
  private readonly samples = new Map<number, ThreadTimes[]>();
  private readonly timer: NodeJS.Timeout;

  /** `pids` is asked for on each tick, so processes can be added once they exist. */
  constructor(pids: () => readonly number[]) {
    this.timer = setInterval(() => {
      for (const pid of pids()) {
        const reading = threadTimes(pid);
        if (!reading) continue;
        const list = this.samples.get(pid) ?? [];
        list.push(reading);
        this.samples.set(pid, list);
      }
    }, RESOLUTION_MS);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /**
   * Running plus waiting time (ms) of `pid` over the tightest sampled interval that contains
   * [from, to] (epoch ms), or undefined when the samples do not bracket it (no /proc, or the
   * process was not watched then). The sampled interval may be wider than asked, never narrower,
   * so the figure is an upper bound on the busy time within [from, to].
   */
  busyMs(pid: number, from: number, to: number): number | undefined {
    const list = this.samples.get(pid) ?? [];
    const before = list.findLast((s) => s.readTo <= from);
    const after = list.find((s) => s.readFrom >= to);
    if (!before || !after) return undefined;
    return after.runningMs - before.runningMs + (after.waitingMs - before.waitingMs);
  }
}

const epochNow = () => performance.timeOrigin + performance.now();

/**
 * Samples the part processes of a benchmark running in `expDir` (their PIDs as the coordinator
 * records them in pids.json), for the busy time of a part over an interval. Start it before the
 * benchmark; stop it after.
 */
export function sampleBenchParts(expDir: string): {
  busyMs(part: number, from: number, to: number): number | undefined;
  stop(): void;
} {
  const pidsFile = join(expDir, "pids.json");
  let pids = new Map<number, number>();
  const sampler = new ThreadSampler(() => {
    if (pids.size === 0 && existsSync(pidsFile)) {
      try {
        const { parts } = JSON.parse(readFileSync(pidsFile, "utf8")) as {
          parts: Array<{ part: number; pid: number }>;
        };
        pids = new Map(parts.map(({ part, pid }) => [part, pid]));
      } catch {
        // Not written yet (it is replaced atomically, but may not exist for a moment): next tick.
      }
    }
    return [...pids.values()];
  });
  return {
    busyMs: (part, from, to) => {
      const pid = pids.get(part);
      return pid === undefined ? undefined : sampler.busyMs(pid, from, to);
    },
    stop: () => sampler.stop(),
  };
}

/**
 * Watches how long this process sleeps from now on: wall time minus the time its main thread
 * ran or waited for a CPU (Linux; elsewhere all wall time counts as sleep). A retry's backoff is
 * sleep; a busy machine only adds waiting, so "slept less than the shortest backoff" tells
 * whether a retry happened however slowly the machine ran.
 */
export function watchSleep(): { sleptMs(): number } {
  const start = threadTimes(process.pid);
  const startedAt = epochNow();
  return {
    sleptMs: () => {
      const now = threadTimes(process.pid);
      const wall = epochNow() - startedAt;
      if (!start || !now) return wall;
      return wall - (now.runningMs - start.runningMs) - (now.waitingMs - start.waitingMs);
    },
  };
}

/**
 * How punctual this machine is to a thread that has nothing else to do: a canary that sends
 * nothing but keeps the schedule of a bench client at 500 req/s, waking every 2 ms on an absolute
 * schedule (setTimeout, as the client sleeps), and records how late each wake-up was, as
 * `cyclictest` does for real-time kernels. A stall of the machine makes every tick in it late, as
 * it does a client's sends, so the canary's percentiles are the floor under a client's: a test that
 * judges a client's punctuality in milliseconds judges it where the canary's were small. A worker
 * thread rather than a process: it has its own event loop and heap (the test's garbage
 * collections do not stop it), and the OS schedules it like any other thread.
 */
/**
 * Puts readings of the system's monotonic clock (process.hrtime, in ms), which every thread and
 * process shares, on the epoch the way the bench clients do (src/clock.ts). Helper threads record
 * hrtime because each thread's performance.now() counts from its own start.
 */
export function hrtimeToEpoch(): (hrMs: number) => number {
  const hrMinusNow = Number(process.hrtime.bigint()) / 1e6 - performance.now();
  const zero = epochOfMonotonicZero();
  return (hrMs) => zero + hrMs - hrMinusNow;
}

export interface WakeCanary {
  /** Stops it; resolves with each wake-up as [epoch ms, ms late]. */
  stop(): Promise<Array<[number, number]>>;
}

const CANARY_SOURCE = `
const { parentPort } = require("node:worker_threads");
const { performance } = require("node:perf_hooks");
const samples = [];
let next = performance.now() + 2;
let timer;
function tick() {
  const now = performance.now();
  samples.push([Number(process.hrtime.bigint()) / 1e6, now - next]);
  next += 2;
  timer = setTimeout(tick, Math.max(0, Math.ceil(next - performance.now())));
}
timer = setTimeout(tick, 2);
parentPort.on("message", () => {
  clearTimeout(timer);
  parentPort.postMessage(samples);
  parentPort.close();
});
`;

export function startWakeCanary(): WakeCanary {
  const worker = new Worker(CANARY_SOURCE, { eval: true });
  return {
    stop: () =>
      new Promise((resolve, reject) => {
        worker.once("message", (samples: Array<[number, number]>) => {
          const toEpoch = hrtimeToEpoch();
          resolve(samples.map(([hrMs, late]) => [toEpoch(hrMs), late]));
          void worker.terminate();
        });
        worker.once("error", reject);
        worker.postMessage("stop");
      }),
  };
}
