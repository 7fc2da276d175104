/**
 * One request as the client saw it (docs/metrics.md, "Per request"). Times are milliseconds
 * on the part's monotonic clock (`performance.now()`); chunk arrays are typed and may be longer
 * than `chunkCount` (they are reused between requests).
 */

/** Every way a request can fail, one kind each (metrics.md), plus `cancelled` for our own stops. */
export const ERROR_KINDS = [
  "connect",
  "http_4xx",
  "http_429",
  "http_5xx",
  "timeout_before_first_token",
  "stream_broken",
  "truncated",
  "bad_response",
  "cancelled",
] as const;

export type ErrorKind = (typeof ERROR_KINDS)[number];

export interface RequestRecord {
  /** Position in the part's sequence for this level (0-based; warmup requests come first). */
  index: number;
  warmup: boolean;
  /** Open loop: when the schedule wanted it sent. */
  scheduledAt?: number;
  /** When the client handed the request to its connection pool. */
  dispatchedAt: number;
  /**
   * When the request went out on a connection (undici may hold it for an event-loop turn before
   * reusing a keep-alive connection). TTFT and E2EL count from here; the wait before it is
   * reported separately as client queueing.
   */
  sentAt: number;
  /** When the request was over (last byte, error, or timeout). */
  endAt: number;
  /** Arrival time of each token-bearing chunk (one network delivery of the body). */
  chunkTimes: Float64Array;
  /** Tokens carried by each chunk. */
  chunkTokens: Uint32Array;
  chunkCount: number;
  /** From the server's `usage`, when it sent one. */
  promptTokens?: number;
  completionTokens?: number;
  /** Per-chunk token counts came from the server (continuous usage), not from counting events. */
  chunkTokensExact: boolean;
  finishReason?: string;
  errorKind?: ErrorKind;
  /** What went wrong, in a line (already free of secrets). */
  errorDetail?: string;
  /** HTTP status, 0 when no response arrived. */
  status: number;
  /** The stream ended with `data: [DONE]`. */
  doneReceived: boolean;
}
