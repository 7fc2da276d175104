/**
 * Faults on request, for tests of everything downstream (the load generator's error kinds, the
 * pipeline's health waits). Each request gets its plan when it arrives, from a seeded stream in
 * arrival order, so a seed reproduces exactly which requests fail and where.
 */

import { Random } from "../random.js";
import type { FaultConfig } from "./config.js";

export interface FaultPlan {
  /** Answer 500 instead of generating. */
  httpError: boolean;
  /** Fail with an error event after this many tokens were delivered (streams; 500 otherwise). */
  streamErrorAfterTokens: number | undefined;
  /** Destroy the connection after this many tokens were delivered, before [DONE]. */
  cutAfterTokens: number | undefined;
  /** Hold the request this long before it may enter the engine. */
  stallMs: number;
}

export class FaultPlanner {
  private readonly random: Random;

  constructor(
    private readonly config: FaultConfig,
    seed: number,
  ) {
    this.random = Random.stream(seed, "faults");
  }

  /** The plan of the next request; `outputTokens` is how many tokens it will produce. */
  plan(outputTokens: number): FaultPlan {
    // Always draw the same numbers per request, so switching one fault on does not reshuffle
    // which requests another fault hits.
    const errorDraw = this.random.next();
    const cutDraw = this.random.next();
    const stallDraw = this.random.next();
    const errorPoint = pointWithin(this.random.next(), outputTokens);
    const cutPoint = pointWithin(this.random.next(), outputTokens);
    const { error_rate, error_mode, cut_rate, stall_first_token_ms, stall_rate } = this.config;
    const failing = errorDraw < error_rate;
    return {
      httpError: failing && error_mode === "http_500",
      streamErrorAfterTokens: failing && error_mode === "in_stream" ? errorPoint : undefined,
      cutAfterTokens: !failing && cutDraw < cut_rate ? cutPoint : undefined,
      stallMs: stall_first_token_ms > 0 && stallDraw < stall_rate ? stall_first_token_ms : 0,
    };
  }
}

/** A point strictly inside a stream of n tokens: 1 … n-1 (1 when n is 1). */
function pointWithin(u: number, n: number): number {
  return n <= 2 ? 1 : 1 + Math.floor(u * (n - 1));
}
