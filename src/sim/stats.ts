/**
 * Ground truth for tests and curious users (`GET /sim/stats`): what the server did, per replica
 * and in total, and each finished request's server-side times (epoch milliseconds, so a client in
 * another process can put them on its own time line) and token counts.
 *
 * Finished requests live in a ring buffer of `stats_capacity` records, numbered in the order they
 * finished; `?since=N` returns those after number N, so a poller never misses or repeats one as
 * long as it keeps up.
 */
import type { IngressReplicaStats, ReplicaStats } from "./service.js";

export type RequestStatus =
  | "ok" // answered in full
  | "error" // an error answer: 4xx/5xx, or an error event in the stream
  | "cut" // the cut fault destroyed the connection
  | "cancelled" // the client went away first
  | "rejected"; // the ingress queue was full (back-pressure)

export interface RequestRecord {
  /** Position in the finish order (the `since` cursor). */
  index: number;
  /** Arrival number (1-based) among generation requests. */
  seq: number;
  id: string;
  endpoint: "completions" | "chat.completions";
  stream: boolean;
  status: RequestStatus;
  http_status: number;
  ingress: number | null;
  replica: number | null;
  arrival_ms: number;
  routed_ms: number | null;
  first_token_ms: number | null;
  finish_ms: number;
  prompt_tokens: number;
  cached_tokens: number;
  /** Tokens sent to the client. */
  completion_tokens: number;
  /** Network writes that carried tokens. */
  chunks: number;
  finish_reason: "length" | "stop" | null;
}

export interface StatsSnapshot {
  model: string;
  profile: string;
  seed: number;
  started_at_ms: number;
  now_ms: number;
  healthy: boolean;
  config: Record<string, unknown>;
  total: Record<string, number>;
  replicas: Array<Record<string, number>>;
  ingress: Array<Record<string, number>>;
  requests: RequestRecord[];
  /** Pass as `since` to get only later records. */
  next_since: number;
  /** Records that fell out of the ring buffer before this call could return them. */
  dropped: number;
}

export class RequestLog {
  private readonly ring: RequestRecord[] = [];
  private finishedCount = 0;
  private readonly statusCounts: Record<RequestStatus, number> = {
    ok: 0,
    error: 0,
    cut: 0,
    cancelled: 0,
    rejected: 0,
  };
  tokensDelivered = 0;

  constructor(private readonly capacity: number) {}

  add(record: Omit<RequestRecord, "index">): void {
    this.finishedCount += 1;
    const full: RequestRecord = { index: this.finishedCount, ...record };
    this.statusCounts[record.status] += 1;
    this.tokensDelivered += record.completion_tokens;
    if (this.ring.length < this.capacity) this.ring.push(full);
    else this.ring[(this.finishedCount - 1) % this.capacity] = full;
  }

  get finished(): number {
    return this.finishedCount;
  }

  counts(): Record<RequestStatus, number> {
    return { ...this.statusCounts };
  }

  /** Records finished after `since`, oldest first, and how many of them the ring already lost. */
  since(since: number, limit = Number.POSITIVE_INFINITY): { records: RequestRecord[]; dropped: number } {
    const oldestKept = this.finishedCount - this.ring.length + 1;
    const from = Math.max(since + 1, oldestKept);
    const dropped = Math.max(0, oldestKept - (since + 1));
    const records: RequestRecord[] = [];
    for (let index = from; index <= this.finishedCount && records.length < limit; index++) {
      records.push(this.ring[(index - 1) % this.capacity]!);
    }
    return { records, dropped };
  }
}

/** Per-replica figures in the JSON naming of the rest of the API. */
export function replicaJson(stats: ReplicaStats): Record<string, number> {
  return {
    index: stats.index,
    requests: stats.routed,
    ongoing: stats.ongoing,
    admitted: stats.admitted,
    finished: stats.finished,
    cancelled: stats.cancelled,
    tokens_generated: stats.tokensGenerated,
    prefill_tokens: stats.prefillTokens,
    cached_prompt_tokens: stats.cachedPromptTokens,
    steps: stats.steps,
    busy_ms: round3(stats.busyMs),
    running: stats.running,
    waiting: stats.waiting,
    max_running: stats.maxRunning,
    max_step_lag_ms: round3(stats.maxStepLagMs),
    kv_tokens_in_use: stats.kvTokensInUse,
  };
}

export function ingressJson(stats: IngressReplicaStats): Record<string, number> {
  return {
    index: stats.index,
    requests: stats.requests,
    chunks: stats.chunks,
    busy_ms: round3(stats.busyMs),
    backlog: stats.backlog,
    delay_ms: round3(stats.delayMs),
    queued: stats.queued,
    rejected: stats.rejected,
  };
}

export function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
