import { resolve } from "node:path";
import { ExternalError, UserError } from "../errors.js";
import { listenForInterrupts } from "../interrupt.js";
import { renderExperiment } from "../model/render-text.js";
import type { Reporter } from "../reporter.js";
import type { BenchProgress } from "./coordinator.js";
import { runBenchmark } from "./coordinator.js";
import {
  type BenchOptions,
  DEFAULT_CONCURRENCIES,
  parseBurstiness,
  parseGoodput,
  parseLevelList,
} from "./options.js";

/**
 * The body of `orchestrate bench`, loaded only when the command runs: flags → BenchOptions,
 * Ctrl-C → a graceful stop, progress on stderr, the results table (or JSON) on stdout.
 */

type Flags = Record<string, string | boolean | undefined>;

export async function runBenchCommand(exp: string, flags: Flags, reporter: Reporter): Promise<void> {
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

export function benchOptionsFromFlags(exp: string, flags: Flags, env: NodeJS.ProcessEnv): BenchOptions {
  const text = (name: string) => (typeof flags[name] === "string" ? (flags[name] as string) : undefined);
  const mode = text("type") ?? "concurrency";
  if (mode !== "concurrency" && mode !== "request-rate") {
    throw new UserError(`-t/--type: "${mode}" is not concurrency or request-rate`);
  }
  const promptFormat = text("promptFormat") ?? "token-ids";
  if (promptFormat !== "token-ids" && promptFormat !== "text") {
    throw new UserError(`--prompt-format: "${promptFormat}" is not token-ids or text`);
  }
  if (flags.force && flags.resume) throw new UserError("--force and --resume: give one or the other");
  const levels =
    mode === "concurrency"
      ? parseLevelList(text("concurrency") ?? DEFAULT_CONCURRENCIES.join(","), "--concurrency")
      : parseLevelList(text("requestRate") ?? "1..10", "--request-rate");
  const options: BenchOptions = {
    baseUrl: text("baseUrl") ?? env.OPENAI_API_URL ?? "http://127.0.0.1:8000",
    clients: wholeNumber(text("clients") ?? "1", "-s/--clients"),
    mode,
    levels,
    inputTokens: wholeNumber(text("itl") ?? "5000", "--itl"),
    outputTokens: wholeNumber(text("otl") ?? "250", "--otl"),
    repeats: wholeNumber(text("repeats") ?? "1", "--repeats"),
    burstiness: parseBurstiness(text("burstiness") ?? "1"),
    promptFormat,
    expDir: resolve(text("resultsDir") ?? "results", exp),
    overwrite: flags.force ? "force" : flags.resume ? "resume" : "refuse",
    timeouts: {
      requestMs: seconds(text("timeout") ?? "600", "--timeout") * 1000,
      firstTokenMs: seconds(text("ttftTimeout") ?? "300", "--ttft-timeout") * 1000,
    },
  };
  if (env.OPENAI_API_KEY) options.token = env.OPENAI_API_KEY;
  const model = text("model");
  if (model) options.model = model;
  const numPrompts = text("numPrompts");
  if (numPrompts !== undefined) options.numPrompts = wholeNumber(numPrompts, "-n/--num-prompts");
  const perConcurrency = text("promptsPerConcurrency");
  if (perConcurrency !== undefined) {
    options.promptsPerConcurrency = wholeNumber(perConcurrency, "--prompts-per-concurrency");
  }
  const duration = text("duration");
  if (duration !== undefined) options.durationS = seconds(duration, "-d/--duration");
  // Without --warmup each level warms up with one wave per client (see BenchOptions.warmup).
  const warmup = text("warmup");
  if (warmup !== undefined) options.warmup = wholeNumber(warmup, "--warmup", 0);
  const seed = text("seed");
  if (seed !== undefined) options.seed = wholeNumber(seed, "--seed", 0);
  const goodput = text("goodput");
  if (goodput !== undefined) options.goodput = parseGoodput(goodput);
  return options;
}

function wholeNumber(value: string, flag: string, min = 1): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new UserError(`${flag}: "${value}" is not a whole number ≥ ${min}`);
  return n;
}

function seconds(value: string, flag: string): number {
  const n = Number(value);
  if (!(n > 0)) throw new UserError(`${flag}: "${value}" is not a number of seconds > 0`);
  return n;
}

/** One progress line on a terminal (rewritten in place); a line every few seconds otherwise. */
class ProgressLine {
  private lastPrint = 0;
  private shown = false;

  constructor(private readonly stream: NodeJS.WriteStream) {}

  update(p: BenchProgress): void {
    const text = `${p.level}: ${p.done}/${p.total} requests done, ${p.failed} failed`;
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
