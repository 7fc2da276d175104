import { type IntervalHistogram, monitorEventLoopDelay } from "node:perf_hooks";
import type { LoadMode } from "../model/types.js";

/**
 * Is the client itself the bottleneck? A part watches its own event loop (a late loop delays
 * every timestamp it takes and every request it issues) and its CPU, and the results compare
 * the load it achieved with the load it was asked for. A level where any part was client-bound
 * is reported as such, never as a server result.
 */

/** Loop delay sampling period. The sampler reports whole periods, so the period is subtracted. */
const RESOLUTION_MS = 5;

/** Thresholds for the `client_bound` verdict (documented in docs/metrics.md, "Client health"). */
export const CLIENT_LIMITS = {
  /** p99 event-loop lag above this distorts TTFT/ITL measurements by as much. */
  loopLagP99Ms: 20,
  /**
   * Lag and CPU are judged only over levels at least this long: in a shorter one, the p99 of the
   * lag is one start-up hiccup and the CPU share is dominated by start-up work.
   */
  minLevelSeconds: 1,
  /** One core busy nearly all the time: the loop cannot keep up with the sockets. */
  cpuPercent: 90,
  /** Closed loop: time-weighted in-flight requests below this share of the target… */
  achievedConcurrencyShare: 0.9,
  /**
   * …judged only when requests last at least this long (median): shorter ones leave their slot
   * empty for a visible share of the time between two requests even on an idle client.
   */
  minRequestMsForConcurrency: 100,
  /** Open loop: sends later than scheduled by more than this at p99. */
  scheduleLagP99Ms: 20,
} as const;

export interface ClientHealth {
  /** Wall time the level ran, over which lag and CPU were measured. */
  wall_s: number;
  event_loop_samples: number;
  event_loop_lag_p99_ms: number;
  event_loop_lag_max_ms: number;
  event_loop_lag_mean_ms: number;
  cpu_percent: number;
}

export class HealthMonitor {
  private histogram: IntervalHistogram | undefined;
  private cpuStart: NodeJS.CpuUsage | undefined;
  private wallStart = 0;

  start(): void {
    this.histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    this.histogram.enable();
    this.cpuStart = process.cpuUsage();
    this.wallStart = performance.now();
  }

  stop(): ClientHealth {
    const histogram = this.histogram;
    if (!histogram || !this.cpuStart) throw new Error("HealthMonitor.stop() before start()");
    histogram.disable();
    const cpu = process.cpuUsage(this.cpuStart);
    const wallMs = Math.max(performance.now() - this.wallStart, 1);
    const lag = (ns: number) => round(Math.max(0, ns / 1e6 - RESOLUTION_MS));
    const empty = histogram.count === 0;
    return {
      wall_s: round(wallMs / 1000),
      event_loop_samples: histogram.count,
      event_loop_lag_p99_ms: empty ? 0 : lag(histogram.percentile(99)),
      event_loop_lag_max_ms: empty ? 0 : lag(histogram.max),
      event_loop_lag_mean_ms: empty ? 0 : lag(histogram.mean),
      cpu_percent: round(((cpu.user + cpu.system) / 1000 / wallMs) * 100),
    };
  }
}

export interface VerdictInput {
  health: ClientHealth;
  mode: LoadMode;
  target: number;
  achievedConcurrency?: number;
  /** Median time from send to end over all requests. */
  medianRequestMs?: number;
  scheduleLagP99Ms?: number;
}

export interface ClientVerdict {
  verdict: "ok" | "client_bound";
  /** Why, one clause each; empty when ok. */
  reasons: string[];
}

export function clientVerdict(input: VerdictInput): ClientVerdict {
  const reasons: string[] = [];
  const { health } = input;
  const judged = health.wall_s >= CLIENT_LIMITS.minLevelSeconds;
  if (judged && health.event_loop_lag_p99_ms > CLIENT_LIMITS.loopLagP99Ms) {
    reasons.push(`event-loop lag p99 ${health.event_loop_lag_p99_ms} ms > ${CLIENT_LIMITS.loopLagP99Ms} ms`);
  }
  if (judged && health.cpu_percent > CLIENT_LIMITS.cpuPercent) {
    reasons.push(`client CPU ${health.cpu_percent}% > ${CLIENT_LIMITS.cpuPercent}% of a core`);
  }
  const longEnough = (input.medianRequestMs ?? 0) >= CLIENT_LIMITS.minRequestMsForConcurrency;
  if (input.mode === "concurrency" && input.achievedConcurrency !== undefined && longEnough) {
    const floor = input.target * CLIENT_LIMITS.achievedConcurrencyShare;
    if (input.achievedConcurrency < floor) {
      reasons.push(
        `achieved concurrency ${round(input.achievedConcurrency)} < ${round(floor)} (target ${input.target})`,
      );
    }
  }
  // A replay sends on an absolute schedule too: the same lag limit.
  if (input.mode !== "concurrency" && input.scheduleLagP99Ms !== undefined) {
    if (input.scheduleLagP99Ms > CLIENT_LIMITS.scheduleLagP99Ms) {
      reasons.push(
        `schedule lag p99 ${round(input.scheduleLagP99Ms)} ms > ${CLIENT_LIMITS.scheduleLagP99Ms} ms`,
      );
    }
  }
  return { verdict: reasons.length > 0 ? "client_bound" : "ok", reasons };
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
