import { type Command, Option } from "commander";
import type { BenchFlags } from "../bench/bench-command.js";
import { DEFAULT_CONCURRENCIES, DEFAULT_RATES } from "../bench/options.js";
import { TOKENIZERS } from "../model/tokenizers.js";
import type { Reporter } from "../reporter.js";
import {
  AliasOption,
  burstinessOption,
  concurrencyListOption,
  endpointOption,
  goodputOption,
  lengthOption,
  rateListOption,
  secondsOption,
  seedOption,
  speedListOption,
} from "./bench-options.js";
import { folderOption, fractionOption, nonNegativeIntOption, positiveIntOption } from "./shared-options.js";

/** `orchestrate bench EXP`: the load generator against OPENAI_API_URL (the seed's run_bm.sh). */
export function register(program: Command, reporter: Reporter): void {
  const concurrency = new Option(
    "-c, --concurrency <list>",
    "per-client concurrency levels, e.g. 4,8,16 or 1..4 (one level = vLLM's --max-concurrency)",
  )
    .argParser(concurrencyListOption)
    .default(DEFAULT_CONCURRENCIES, DEFAULT_CONCURRENCIES.join(","));
  const inputLen = new Option(
    "--input-len <n|dist>",
    "input tokens per request, or a distribution drawn per request: uniform:min=A,max=B, normal:mean=M,std=S,min=A,max=B, lognormal:median=M,sigma=S,min=A,max=B",
  )
    .argParser(lengthOption)
    .default(5000);
  const outputLen = new Option(
    "--output-len <n|dist>",
    "output tokens per request (max_tokens, ignore_eos), or a distribution as --input-len",
  )
    .argParser(lengthOption)
    .default(250);
  program
    .command("bench")
    .description(
      "Benchmark an OpenAI-compatible server: N client processes, each level started on all of them at once, " +
        "results in RESULTS_DIR/EXP (per client, and merged over the shared window in all-parts/).",
    )
    .argument("<EXP>", "experiment name (a folder under --results-dir) or a path")
    .option("-s, --clients <n>", "client processes (parts); levels are per client", positiveIntOption, 1)
    .addOption(concurrency)
    .addOption(
      new Option("-t, --type <mode>", "what the levels are")
        .choices(["concurrency", "request-rate", "replay"])
        .default("concurrency"),
    )
    .addOption(
      new Option("-r, --request-rate <list>", "per-client request rates in req/s (with -t request-rate)")
        .argParser(rateListOption)
        .default(DEFAULT_RATES, "1..10"),
    )
    .option(
      "--trace <file>",
      "replay this Mooncake trace (JSONL: timestamp ms, input_length, output_length); implies -t replay. " +
        "N clients deal its rows round-robin and compress its time N×, so together they play it once at N × the speed",
    )
    .option(
      "--speed <list>",
      "replay speeds, the levels of -t replay: 1 = each client at the trace's own pace, 2 = twice as fast",
      speedListOption,
      [1],
    )
    .option(
      "--dataset <file>",
      "prompts from a file, in order (every scale and repeat sends the same ones): ShareGPT JSON or JSONL {prompt, output_tokens?}",
    )
    .addOption(
      new Option(
        "--dataset-format <f>",
        "the --dataset file's format (default: jsonl for .jsonl, else sharegpt)",
      ).choices(["sharegpt", "jsonl"]),
    )
    .option(
      "--max-model-len <n>",
      "the model's context length: a dataset or trace row longer than this is refused before the run",
      positiveIntOption,
    )
    .addOption(inputLen)
    .addOption(outputLen)
    .option(
      "--random-range-ratio <r>",
      "lengths uniform in [L·(1−r), L·(1+r)] around --input-len and --output-len, as vllm bench serve",
      fractionOption,
    )
    .option(
      "--endpoint <api>",
      "completions (/v1/completions, token-id prompts) or chat (/v1/chat/completions, one user message of text)",
      endpointOption,
      "completions",
    )
    .addOption(
      new Option(
        "--tokenizer <name>",
        "the model's tokenizer, to size chat prompts in tokens (default: o200k_harmony for gpt-oss; other models need it for chat)",
      ).choices([...TOKENIZERS]),
    )
    .option("-u, --base-url <url>", "server base URL (default: $OPENAI_API_URL or http://127.0.0.1:8000)")
    .option("-m, --model <id>", "model to request (default: the first of GET /v1/models)")
    .option(
      "-n, --num-prompts <n>",
      "requests per client per level (default 10 × concurrency, or 500 at a rate)",
      positiveIntOption,
    )
    .option(
      "--prompts-per-concurrency <n>",
      "requests per client per level = n × concurrency (default 10, as the seed)",
      positiveIntOption,
    )
    .option(
      "-d, --duration <s>",
      "issue requests for this many seconds per level instead of a count",
      secondsOption,
    )
    .option(
      "--warmup <n>",
      "requests per client per level issued first and left out of the statistics (default: one wave = the concurrency; 0 = none)",
      nonNegativeIntOption,
    )
    .option(
      "--repeats <n>",
      "run the whole sweep N times (every level, then again); the report shows the spread. With --target-ci: the most a level runs",
      positiveIntOption,
      1,
    )
    .option(
      "--target-ci <fraction>",
      "repeat each level until its throughput's 95% interval is within ±this (0.03 = ±3%), or --repeats is reached",
      fractionOption,
    )
    .option(
      "--repeats-min <n>",
      "with --target-ci: repeats every level runs before it may stop (default 3)",
      positiveIntOption,
    )
    .option(
      "--burstiness <b>",
      "arrivals at a rate: 1 = Poisson, other values gamma, inf = constant spacing",
      burstinessOption,
      1,
    )
    .option("--seed <n>", "run seed (default: a fresh one, recorded in experiment.json)", seedOption)
    .option("--goodput <slos>", "SLOs for goodput, e.g. ttft:500,tpot:50,e2el:20000 (ms)", goodputOption)
    .addOption(
      new Option(
        "--prompt-format <f>",
        "how prompts are sent (text for servers that refuse token-id prompts; default token-ids, text for chat)",
      ).choices(["token-ids", "text"]),
    )
    .option(
      "--results-dir <dir>",
      "where experiments live",
      folderOption("a folder for experiments (created if absent)"),
      "results",
    )
    .option("--timeout <s>", "per-request timeout, seconds", secondsOption, 600)
    .option("--ttft-timeout <s>", "time allowed until the first token, seconds", secondsOption, 300)
    .option("--force", "replace the results already in EXP")
    .option("--resume", "keep EXP's complete levels and run the others")
    .option("--json", "print the experiment summary as JSON on stdout")
    .addOption(new AliasOption("--random-input-len <n>", inputLen))
    .addOption(new AliasOption("--random-output-len <n>", outputLen))
    .addOption(new AliasOption("--max-concurrency <list>", concurrency))
    // The names before vLLM's, kept for scripts that use them; not shown, since ITL is also
    // inter-token latency in every table.
    .addOption(new AliasOption("--itl <n>", inputLen).hideHelp())
    .addOption(new AliasOption("--otl <n>", outputLen).hideHelp())
    .action(async (exp: string, flags: BenchFlags) => {
      const { runBenchCommand } = await import("../bench/bench-command.js");
      await runBenchCommand(exp, flags, reporter);
    });
}
