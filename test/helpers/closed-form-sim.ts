import type { SimConfigInput } from "../../src/sim/config.js";

/**
 * A simulator whose throughput has a closed form: prefill and ingress cost nothing, so while every
 * slot is busy a replica emits one token per sequence per step of 4 + 0.05 × c ms, that is
 * c × 1000 / (4 + 0.05 c) tokens/s at c sequences. Steps are short, so levels take about a second.
 */
export const CLOSED_FORM: SimConfigInput = {
  engine: {
    decode_base_ms: 4,
    decode_per_seq_ms: 0.05,
    prefill_ms_per_token: 0,
    stream_batching_interval_ms: 0,
  },
  ingress: { request_overhead_ms: 0, chunk_cost_ms: 0 },
};

export const closedFormRate = (c: number) => (c * 1000) / (4 + 0.05 * c);

/** The same, with stretches of 150 ms in which every step is up to ±40% slower or faster. */
export const CLOSED_FORM_NOISY: SimConfigInput = {
  ...CLOSED_FORM,
  noise: { step_jitter: 0.4, jitter_period_ms: 150 },
};
