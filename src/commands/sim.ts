/**
 * `orchestrate sim`: the local simulator in the foreground, for any client (our `bench` and
 * `smoke`, curl, `vllm bench serve`). Ctrl-C stops it cleanly.
 */
import { type Command, InvalidArgumentError, Option } from "commander";
import type { Reporter } from "../reporter.js";
import type { CalibrateOptions } from "../twin/calibrate-command.js";
import {
  fileOption,
  folderArguments,
  fractionOption,
  intOption,
  nonEmptyOption,
  nonNegativeOption,
  outputFileOption,
  portOption,
  positiveIntOption,
} from "./shared-options.js";

interface SimOptions {
  replicas?: number;
  ingress?: number;
  port: number;
  model?: string;
  token?: string;
  seed?: number;
  config?: string;
  profile?: "oss" | "turbo";
  imageEnv?: string[];
  maxNumSeqs?: number;
  streamIntervalMs?: number;
  prefixCaching?: boolean;
  errorRate?: number;
  errorMode?: "http_500" | "in_stream";
  cutRate?: number;
  stallFirstTokenMs?: number;
  startupDelayMs?: number;
  neverHealthy?: boolean;
  stepJitter?: number;
  jitterPeriodMs?: number;
  slowdown?: { factor: number; after_s: number; duration_s?: number };
  json?: boolean;
}

export function register(program: Command, reporter: Reporter): void {
  const sim = program.command("sim");
  sim
    .command("calibrate")
    .description(
      "fit a simulator profile (engine and ingress costs per image runtime) to measured closed-loop results, " +
        "and print the fit's residual at every level",
    )
    .argument(
      "<dir...>",
      "result folders: partK/concC.json per client, named like rayoss251-x2 (runtime, scale)",
      folderArguments("result folders (partK/concC.json per client)"),
    )
    .requiredOption(
      "--out <file.json>",
      "where to write the profile",
      outputFileOption("a file for the profile (JSON)"),
    )
    .option("--name <name>", "the profile's name (default: the file name)")
    .option("--json", "print the profile as JSON instead of the residual tables")
    .action(async (dirs: string[], options: CalibrateOptions) => {
      const { calibrateCommand } = await import("../twin/calibrate-command.js");
      await calibrateCommand(dirs, options, reporter);
    });
  sim
    .description(
      "Run the local simulator of a Ray Serve LLM service (OpenAI API on 127.0.0.1) in the foreground; " +
        "Ctrl-C stops it. Point OPENAI_API_URL, curl or `vllm bench serve` at the printed URL.",
    )
    .option("-r, --replicas <n>", "LLM replicas (engines)", positiveIntOption)
    .option("-i, --ingress <k>", "ingress replicas (default: 2 × replicas)", positiveIntOption)
    .option("-p, --port <port>", "port on 127.0.0.1 (0 = any free port)", portOption, 8000)
    .option("-m, --model <name>", "served model id (default: sim-llm)")
    .addOption(
      new Option("--token <token>", "require this bearer token")
        .env("ORCHESTRATE_SIM_TOKEN")
        .argParser(nonEmptyOption),
    )
    .option("--seed <n>", "seed of every random choice (routing, faults, text)", intOption)
    .option(
      "--config <file.json>",
      "simulator settings as JSON (docs/simulator.md)",
      fileOption("simulator settings (JSON)"),
    )
    .addOption(
      new Option(
        "--profile <runtime>",
        "runtime of one of the seed's images (sets its ENV switches)",
      ).choices(["oss", "turbo"]),
    )
    .option(
      "--image-env <K=V...>",
      "runtime env vars of the image, e.g. ANYSCALE_DISABLE_OPTIMIZED_RAY=1",
      keyValues,
    )
    .option("--max-num-seqs <n>", "engine slots per replica", positiveIntOption)
    .option(
      "--stream-interval-ms <ms>",
      "Ray Serve stream batching interval (0 = a chunk per token)",
      nonNegativeOption,
    )
    .option("--prefix-caching", "turn on automatic prefix caching")
    .option("--error-rate <fraction>", "fault: fail this fraction of requests", fractionOption)
    .addOption(new Option("--error-mode <mode>", "fault: how they fail").choices(["http_500", "in_stream"]))
    .option("--cut-rate <fraction>", "fault: destroy this fraction of streams mid-way", fractionOption)
    .option("--stall-first-token-ms <ms>", "fault: delay every first token by this much", nonNegativeOption)
    .option("--startup-delay-ms <ms>", "fault: unhealthy (503) for this long after start", nonNegativeOption)
    .option("--never-healthy", "fault: never become healthy")
    .option(
      "--step-jitter <fraction>",
      "noise: relative sd of each replica's step time (0.1 = ±10%; docs/noise.md)",
      nonNegativeOption,
    )
    .option(
      "--jitter-period-ms <ms>",
      "noise: how long one jitter factor holds (0 = a new one every step)",
      nonNegativeOption,
    )
    .option(
      "--slowdown <F@S[+D]>",
      "noise: steps take F× as long from S s after a replica's first request, for D s (or for good)",
      slowdownOption,
    )
    .option("--json", "print the listening line as JSON")
    .action(async (options: SimOptions) => {
      const { runSimulatorInForeground } = await import("../sim/sim-command.js");
      await runSimulatorInForeground(
        {
          configFile: options.config,
          profile: options.profile,
          imageEnv: Object.fromEntries((options.imageEnv ?? []).map((pair) => splitPair(pair))),
          json: options.json === true,
          flags: {
            replicas: options.replicas,
            ingress_replicas: options.ingress,
            port: options.port,
            model: options.model,
            token: options.token,
            seed: options.seed,
            engine: {
              max_num_seqs: options.maxNumSeqs,
              stream_batching_interval_ms: options.streamIntervalMs,
              enable_prefix_caching: options.prefixCaching,
            },
            faults: {
              error_rate: options.errorRate,
              error_mode: options.errorMode,
              cut_rate: options.cutRate,
              stall_first_token_ms: options.stallFirstTokenMs,
              startup_delay_ms: options.startupDelayMs,
              never_healthy: options.neverHealthy,
            },
            noise: {
              step_jitter: options.stepJitter,
              jitter_period_ms: options.jitterPeriodMs,
              slowdown: options.slowdown,
            },
          },
        },
        reporter,
      );
    });
}

/** "2.5@5+10" → 2.5× from 5 s for 10 s; "2.5@5" → from 5 s on. */
export function slowdownOption(value: string): { factor: number; after_s: number; duration_s?: number } {
  const match = /^(\d+(?:\.\d+)?)@(\d+(?:\.\d+)?)(?:\+(\d+(?:\.\d+)?))?$/.exec(value.trim());
  const factor = Number(match?.[1]);
  if (!match || !(factor > 0)) {
    throw new InvalidArgumentError(`"${value}" is not FACTOR@AFTER_S[+DURATION_S], e.g. 2.5@5+10`);
  }
  const episode: { factor: number; after_s: number; duration_s?: number } = {
    factor,
    after_s: Number(match[2]),
  };
  if (match[3] !== undefined) {
    const duration = Number(match[3]);
    if (!(duration > 0)) throw new InvalidArgumentError(`"${value}": the duration must be > 0 s`);
    episode.duration_s = duration;
  }
  return episode;
}

function keyValues(value: string, previous: string[] = []): string[] {
  splitPair(value);
  return [...previous, value];
}

function splitPair(pair: string): [string, string] {
  const index = pair.indexOf("=");
  if (index <= 0) throw new InvalidArgumentError(`"${pair}" is not KEY=VALUE`);
  return [pair.slice(0, index), pair.slice(index + 1)];
}
