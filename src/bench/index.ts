/**
 * The load generator's programmatic API, for the pipeline and anything else that benchmarks a
 * server: run a benchmark into an experiment folder, check a server is ready, end leftovers.
 */

export type { Slo } from "./aggregate.js";
export { listModels, type SmokeOptions, type SmokeResult, smokeTest } from "./api.js";
export { type CleanReport, cleanLeftovers } from "./clean.js";
export type { ClientTimeouts } from "./client.js";
export { type BenchHooks, type BenchOutcome, type BenchProgress, runBenchmark } from "./coordinator.js";
export type { BenchLabels, BenchOptions, OverwritePolicy } from "./options.js";
export { DEFAULT_CONCURRENCIES, DEFAULT_RATES } from "./options.js";
export type { PromptFormat } from "./workload.js";
