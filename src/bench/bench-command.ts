import { ExternalError, UserError } from "../errors.js";
import { listenForInterrupts } from "../interrupt.js";
import { type LengthSpec, rangeRatio } from "../model/lengths.js";
import { experimentDir } from "../model/load.js";
import { renderExperiment } from "../model/render-text.js";
import type { TokenizerName } from "../model/tokenizers.js";
import type { Reporter } from "../reporter.js";
import type { Slo } from "./aggregate.js";
import type { BenchProgress } from "./coordinator.js";
import { runBenchmark } from "./coordinator.js";
import type { BenchOptions } from "./options.js";
import { formatBenchProgress } from "./progress.js";
import { serverUrlFrom } from "./server-url.js";
import type { Endpoint, PromptFormat } from "./workload.js";

/**
 * The body of `orchestrate bench`, loaded only when the command runs: flags → BenchOptions,
 * Ctrl-C → a graceful stop, progress on stderr, the results table (or JSON) on stdout.
 */

/** The flags of `orchestrate bench`, their values already parsed and checked one by one. */
export interface BenchFlags {
  clients: number;
  type: "concurrency" | "request-rate" | "replay";
  trace?: string;
  speed: number[];
  dataset?: string;
  datasetFormat?: "sharegpt" | "jsonl";
  maxModelLen?: number;
  concurrency: number[];
  requestRate: number[];
  inputLen: LengthSpec;
  outputLen: LengthSpec;
  /** vLLM's --random-range-ratio: both lengths uniform within ±this fraction. */
  randomRangeRatio?: number;
  endpoint: Endpoint;
  tokenizer?: TokenizerName;
  baseUrl?: string;
  model?: string;
  numPrompts?: number;
  promptsPerConcurrency?: number;
  duration?: number;
  warmup?: number;
  repeats: number;
  targetCi?: number;
  repeatsMin?: number;
  burstiness: number;
  seed?: number;
  goodput?: Slo;
  promptFormat?: PromptFormat;
  resultsDir: string;
  timeout: number;
  ttftTimeout: number;
  force?: boolean;
  resume?: boolean;
  json?: boolean;
}

export async function runBenchCommand(exp: string, flags: BenchFlags, reporter: Reporter): Promise<void> {
  const options = benchOptionsFromFlags(exp, flags, process.env);
  const progress = new ProgressLine(reporter.progress);
  const interruption = listenForInterrupts((count) => {
    progress.clear();
    if (count === 1) {
      reporter.note(
        "stopping: no new requests; waiting briefly for those in flight, then writing the results (Ctrl-C again to hurry)",
      );
    } else if (count === 2) {
      reporter.note("cancelling the requests in flight");
    }
  });
  let outcome: Awaited<ReturnType<typeof runBenchmark>>;
  try {
    reporter.note(`benchmarking ${options.baseUrl} → ${options.expDir}`);
    outcome = await runBenchmark(options, {
      signal: interruption.graceful,
      urgentSignal: interruption.urgent,
      onProgress: (p) => progress.update(p),
      onLevelDone: (level, summary) => {
        progress.clear();
        if (!summary) return;
        const verdict = summary.clientVerdict === "client_bound" ? "  CLIENT-BOUND" : "";
        reporter.note(
          `${level}: ${summary.outputThroughput.toFixed(1)} output tok/s, ${summary.requestThroughput.toFixed(2)} req/s, ` +
            `TTFT p99 ${summary.latency.ttft?.p99.toFixed(0) ?? "–"} ms, ${summary.completed} ok / ${summary.failed} failed${verdict}`,
        );
      },
    });
  } finally {
    progress.clear();
    interruption.dispose();
  }
  if (flags.json) reporter.result(JSON.stringify(outcome, null, 2));
  else reporter.result(renderExperiment(outcome.experiment));
  const dead = outcome.experiment.levels.filter((l) => l.completed === 0);
  if (dead.length > 0) {
    throw new ExternalError(`no request succeeded at ${dead.map((l) => l.key).join(", ")}`, {
      hint: `see errors_by_kind in ${outcome.expDir}/all-parts/`,
    });
  }
}

export function benchOptionsFromFlags(exp: string, flags: BenchFlags, env: NodeJS.ProcessEnv): BenchOptions {
  validateBenchFlags(flags);
  const mode = flags.trace !== undefined ? "replay" : flags.type;
  const options: BenchOptions = {
    baseUrl: serverUrlFrom(flags.baseUrl, env),
    clients: flags.clients,
    mode,
    levels: mode === "concurrency" ? flags.concurrency : mode === "replay" ? flags.speed : flags.requestRate,
    inputTokens: withRangeRatio(flags.inputLen, flags.randomRangeRatio),
    outputTokens: withRangeRatio(flags.outputLen, flags.randomRangeRatio),
    endpoint: flags.endpoint,
    repeats: flags.repeats,
    burstiness: flags.burstiness,
    expDir: experimentDir(exp, flags.resultsDir),
    overwrite: flags.force ? "force" : flags.resume ? "resume" : "refuse",
    timeouts: { requestMs: flags.timeout * 1000, firstTokenMs: flags.ttftTimeout * 1000 },
  };
  if (flags.targetCi !== undefined)
    options.repeatsTarget = { min: flags.repeatsMin ?? 3, targetCi: flags.targetCi };
  else if (flags.repeatsMin !== undefined)
    throw new UserError("--repeats-min: only means something with --target-ci", {
      hint: "give --target-ci 0.03 to repeat until sure, or leave --repeats-min out",
    });
  if (env.OPENAI_API_KEY) options.token = env.OPENAI_API_KEY;
  if (flags.model) options.model = flags.model;
  if (flags.numPrompts !== undefined) options.numPrompts = flags.numPrompts;
  if (flags.promptsPerConcurrency !== undefined) options.promptsPerConcurrency = flags.promptsPerConcurrency;
  if (flags.duration !== undefined) options.durationS = flags.duration;
  // Without --warmup each level warms up with one wave per client (see BenchOptions.warmup).
  if (flags.warmup !== undefined) options.warmup = flags.warmup;
  if (flags.seed !== undefined) options.seed = flags.seed;
  if (flags.promptFormat !== undefined) options.promptFormat = flags.promptFormat;
  if (flags.tokenizer !== undefined) options.tokenizer = flags.tokenizer;
  if (flags.goodput !== undefined) options.goodput = flags.goodput;
  if (flags.maxModelLen !== undefined) options.maxModelLen = flags.maxModelLen;
  if (flags.trace !== undefined)
    options.workloadFile = { kind: "trace", format: "mooncake", path: flags.trace };
  if (flags.dataset !== undefined)
    options.workloadFile = {
      kind: "dataset",
      format: datasetFormat(flags.dataset, flags.datasetFormat),
      path: flags.dataset,
    };
  return options;
}

function withRangeRatio(spec: LengthSpec, ratio: number | undefined): LengthSpec {
  return ratio === undefined || typeof spec !== "number" ? spec : rangeRatio(spec, ratio);
}

/** The rules that join several flags, every broken one reported at once. */
function validateBenchFlags(flags: BenchFlags): void {
  const problems: string[] = [];
  if (flags.force && flags.resume) problems.push("• --force and --resume: give one or the other");
  const counts = [
    flags.numPrompts !== undefined && "-n/--num-prompts",
    flags.promptsPerConcurrency !== undefined && "--prompts-per-concurrency",
    flags.duration !== undefined && "-d/--duration",
  ].filter((flag): flag is string => flag !== false);
  if (counts.length > 1) problems.push(`• ${counts.join(", ")}: give one of them, not several`);
  if (flags.promptsPerConcurrency !== undefined && flags.type !== "concurrency")
    problems.push("• --prompts-per-concurrency: only applies to -t concurrency");
  if (
    flags.randomRangeRatio !== undefined &&
    (typeof flags.inputLen !== "number" || typeof flags.outputLen !== "number")
  )
    problems.push(
      "• --random-range-ratio: spreads a fixed --input-len/--output-len; a length given as a distribution already says its spread",
    );
  if (flags.trace !== undefined && flags.type === "request-rate")
    problems.push("• --trace and -t request-rate: a trace is replayed (-t replay, the levels are --speed)");
  if (flags.type === "replay" && flags.trace === undefined) problems.push("• -t replay: needs --trace FILE");
  if (flags.trace !== undefined && flags.dataset !== undefined)
    problems.push("• --trace and --dataset: a trace gives the lengths of its own requests; give one");
  if (flags.datasetFormat !== undefined && flags.dataset === undefined)
    problems.push("• --dataset-format: only means something with --dataset FILE");
  if (problems.length > 0) throw new UserError("the bench flags do not go together", { details: problems });
}

/** jsonl for a .jsonl file, sharegpt for .json; anything else must say. */
function datasetFormat(path: string, given: "sharegpt" | "jsonl" | undefined): "sharegpt" | "jsonl" {
  if (given) return given;
  if (path.endsWith(".jsonl")) return "jsonl";
  if (path.endsWith(".json")) return "sharegpt";
  throw new UserError(`--dataset ${path}: cannot tell its format from the name`, {
    hint: "give --dataset-format sharegpt or --dataset-format jsonl",
  });
}

/** One progress line on a terminal (rewritten in place); a line every few seconds otherwise. */
class ProgressLine {
  private lastPrint = 0;
  private shown = false;

  constructor(private readonly stream: NodeJS.WriteStream) {}

  update(p: BenchProgress): void {
    const text = formatBenchProgress(p, Date.now());
    if (this.stream.isTTY) {
      this.stream.write(`\r\x1b[2K${text}`);
      this.shown = true;
    } else if (Date.now() - this.lastPrint > 5000) {
      this.lastPrint = Date.now();
      this.stream.write(`${text}\n`);
    }
  }

  clear(): void {
    if (this.shown) this.stream.write("\r\x1b[2K");
    this.shown = false;
  }
}
