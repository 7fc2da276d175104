/**
 * The core of `orchestrate sim`: layer the settings, start the simulator in this process, print
 * how to reach it, and stop cleanly on Ctrl-C.
 *
 * Settings, later layers winning: defaults < runtime profile (--profile / --image-env) <
 * --config file < ORCHESTRATE_SIM_CONFIG < flags.
 */
import { readFile } from "node:fs/promises";
import { UserError } from "../errors.js";
import { listenForInterrupts } from "../interrupt.js";
import type { Reporter } from "../reporter.js";
import { registerSecret } from "../secrets.js";
import {
  mergeSimConfigInputs,
  parseSimConfig,
  SIM_CONFIG_ENV,
  type SimConfig,
  type SimConfigInput,
  simConfigFromEnv,
} from "./config.js";
import { runtimeProfile, SEED_IMAGE_ENV } from "./runtime-profile.js";
import { startSimulator } from "./simulator.js";

export interface ForegroundOptions {
  configFile?: string;
  profile?: "oss" | "turbo";
  imageEnv?: Record<string, string>;
  /** Print the listening line as JSON (as dist/sim/main.js does). */
  json?: boolean;
  flags: SimConfigInput;
  env?: NodeJS.ProcessEnv;
}

export async function runSimulatorInForeground(
  options: ForegroundOptions,
  reporter: Reporter,
): Promise<void> {
  const config = await resolveConfig(options);
  registerSecret(config.token);
  const sim = await startSimulator(config);
  const interrupts = listenForInterrupts();
  if (options.json) {
    reporter.result(
      JSON.stringify({
        event: "listening",
        url: sim.url,
        port: sim.port,
        pid: process.pid,
        model: config.model,
      }),
    );
  } else {
    reporter.result(describe(sim.url, config).trimEnd());
  }
  try {
    await new Promise<void>((resolve) =>
      interrupts.graceful.addEventListener("abort", () => resolve(), { once: true }),
    );
  } finally {
    interrupts.dispose();
    await sim.close();
  }
  const total = sim.stats().total;
  if (!options.json)
    reporter.result(`stopped after ${total.requests} requests, ${total.tokens_generated} tokens generated`);
}

async function resolveConfig(options: ForegroundOptions): Promise<SimConfig> {
  const imageEnv = { ...(options.profile ? SEED_IMAGE_ENV[options.profile] : {}), ...options.imageEnv };
  const hasImage = options.profile !== undefined || Object.keys(imageEnv).length > 0;
  const profile = hasImage ? runtimeProfile(imageEnv) : undefined;
  const fromProfile: SimConfigInput | undefined = profile && {
    profile: profile.name,
    ingress: profile.ingress,
  };
  const fromFile = options.configFile ? await readConfigFile(options.configFile) : undefined;
  return parseSimConfig(
    mergeSimConfigInputs(fromProfile, fromFile, simConfigFromEnv(options.env ?? process.env), options.flags),
    ["flags", options.configFile, SIM_CONFIG_ENV].filter(Boolean).join(", "),
  );
}

async function readConfigFile(path: string): Promise<SimConfigInput> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new UserError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`, {
      cause: error,
    });
  }
  try {
    return JSON.parse(text) as SimConfigInput;
  } catch (error) {
    throw new UserError(`${path} is not JSON: ${(error as Error).message}`, { cause: error });
  }
}

function describe(url: string, config: SimConfig): string {
  const { engine, ingress } = config;
  const auth = config.token ? ` -H "Authorization: Bearer $TOKEN"` : "";
  return [
    `Simulated Ray Serve LLM service on ${url}`,
    `  model ${config.model} · ${config.replicas} LLM replica${config.replicas === 1 ? "" : "s"} · ` +
      `${config.ingress_replicas} ingress replicas · runtime ${config.profile} ` +
      `(${ingress.request_overhead_ms} ms/request, ${ingress.chunk_cost_ms} ms/chunk at the ingress)`,
    `  engine: ${engine.max_num_seqs} slots, step ${engine.decode_base_ms} ms + ${engine.decode_per_seq_ms} ms/sequence, ` +
      `prefill ${engine.prefill_ms_per_token} ms/token, stream batching ${engine.stream_batching_interval_ms} ms, ` +
      `prefix caching ${engine.enable_prefix_caching ? "on" : "off"}`,
    `  try:   curl -N ${url}/v1/completions${auth} -H 'content-type: application/json' ` +
      `-d '{"prompt": "Hello", "max_tokens": 16, "stream": true}'`,
    `  stats: ${url}/sim/stats · health: ${url}/-/healthz · Ctrl-C stops it`,
    "",
  ].join("\n");
}
