/**
 * A simulator profile: what `orchestrate sim calibrate` fitted from measured results, per image
 * runtime, and where it came from. The local target and `predict` turn it into simulator
 * settings, so the simulator's costs are measured ones rather than chosen ones.
 */
import { writeFile } from "node:fs/promises";
import { z } from "zod";
import { UserError } from "../errors.js";
import { cliCommand } from "../invocation.js";
import { readJsonFile } from "../json-file.js";
import type { SimConfigInput } from "../sim/config.js";

export const PROFILE_FORMAT_VERSION = 1;

const nonNegative = z.number().finite().nonnegative();
const count = z.number().int().positive();

const levelFitSchema = z.strictObject({
  concurrency: count,
  input_tokens: count,
  output_tokens: count,
  /** The result folders (and how many of their requests completed) behind the observed values. */
  sources: z.array(z.string()),
  completed: z.number().int().nonnegative(),
  observed: z.strictObject({
    per_replica_output_throughput: nonNegative,
    median_ttft_ms: nonNegative,
    median_tpot_ms: nonNegative,
  }),
  predicted: z.strictObject({
    per_replica_output_throughput: nonNegative,
    median_ttft_ms: nonNegative,
    median_tpot_ms: nonNegative,
  }),
});

const runtimeProfileSchema = z.strictObject({
  engine: z.strictObject({
    prefill_ms_per_token: nonNegative,
    decode_base_ms: z.number().finite().positive(),
    decode_per_seq_ms: nonNegative,
    max_num_batched_tokens: count,
    /** A lower bound: the data never showed the cache full (see notes). */
    kv_cache_tokens: count,
  }),
  ingress: z.strictObject({
    network_latency_ms: nonNegative,
    request_overhead_ms: nonNegative,
    chunk_cost_ms: nonNegative,
  }),
  /** The folders this runtime was fitted from. */
  sources: z.array(z.string()).min(1),
  /** Root mean square of the fit's log residuals (0.1 ≈ 10% typical error). */
  rms_log_residual: nonNegative,
  levels: z.array(levelFitSchema),
  /** What the data could not pin down, and what the profile does about it. */
  notes: z.array(z.string()).default([]),
});

export const simProfileSchema = z.strictObject({
  kind: z.literal("orchestrate-sim-profile"),
  format: z.literal(
    PROFILE_FORMAT_VERSION,
    `this profile format is not supported: orchestrate reads format ${PROFILE_FORMAT_VERSION}; recalibrate it with orchestrate sim calibrate`,
  ),
  name: z.string().min(1),
  /** How, when and from what it was made. */
  provenance: z.strictObject({
    command: z.string(),
    tool_version: z.string(),
    created_at: z.string(),
    method: z.array(z.string()),
  }),
  /** The workloads of the data it was fitted from: a profile extrapolates beyond them at its risk. */
  workloads: z.array(z.strictObject({ input_tokens: count, output_tokens: count })).min(1),
  runtimes: z.strictObject({ oss: runtimeProfileSchema.optional(), turbo: runtimeProfileSchema.optional() }),
});

export type SimProfile = z.output<typeof simProfileSchema>;
export type RuntimeFit = z.output<typeof runtimeProfileSchema>;
export type LevelFit = z.output<typeof levelFitSchema>;
export type ProfileRuntime = "oss" | "turbo";

export async function readSimProfile(path: string): Promise<SimProfile> {
  return readJsonFile(path, simProfileSchema, "a simulator profile (orchestrate sim calibrate writes them)");
}

export async function writeSimProfile(path: string, profile: SimProfile): Promise<void> {
  await writeFile(path, `${JSON.stringify(profile, null, 2)}\n`);
}

/** The profile's entry for a runtime, or a UserError naming the runtimes it has. */
export function runtimeFit(profile: SimProfile, runtime: ProfileRuntime, source: string): RuntimeFit {
  const fit = profile.runtimes[runtime];
  if (fit) return fit;
  const have = Object.keys(profile.runtimes).join(", ") || "none";
  throw new UserError(`the profile ${source} has no ${runtime} runtime (it has: ${have})`, {
    hint: `calibrate it from result folders of a ${runtime} image, e.g. ${cliCommand("sim", "calibrate", "DIR...", "--out", source)}`,
  });
}

/**
 * Simulator settings for a runtime of the profile. `speedup` runs the simulator that many times
 * faster than the hardware measured (every time cost divided by it), so a local rehearsal of a
 * slow workload finishes sooner with the same shape; latencies it measures are then in that
 * faster time too.
 */
export function profileSimLayer(fit: RuntimeFit, speedup = 1): SimConfigInput {
  const fast = (ms: number) => ms / speedup;
  return {
    engine: {
      prefill_ms_per_token: fast(fit.engine.prefill_ms_per_token),
      decode_base_ms: fast(fit.engine.decode_base_ms),
      decode_per_seq_ms: fast(fit.engine.decode_per_seq_ms),
    },
    ingress: {
      network_latency_ms: fast(fit.ingress.network_latency_ms),
      request_overhead_ms: fast(fit.ingress.request_overhead_ms),
      chunk_cost_ms: fast(fit.ingress.chunk_cost_ms),
    },
  };
}

/**
 * Capacity the profile measured (the engine's token budget per step). It yields to what a
 * service config states explicitly, so the caller lays it under the config, not over it.
 */
export function profileCapacityLayer(fit: RuntimeFit): SimConfigInput {
  return {
    engine: {
      max_num_batched_tokens: fit.engine.max_num_batched_tokens,
      kv_cache_tokens: fit.engine.kv_cache_tokens,
    },
  };
}
