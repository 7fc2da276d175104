import type { Command } from "commander";
import type { Reporter } from "../reporter.js";

/** `orchestrate bench EXP`: the load generator against OPENAI_API_URL (the seed's run_bm.sh). */
export function register(program: Command, reporter: Reporter): void {
  program
    .command("bench")
    .description(
      "Benchmark an OpenAI-compatible server: N client processes, each level started on all of them at once, " +
        "results in RESULTS_DIR/EXP (per client, and merged over the shared window in all-parts/).",
    )
    .argument("<EXP>", "experiment name (a folder under --results-dir) or a path")
    .option("-s, --clients <n>", "client processes (parts); levels are per client", "1")
    .option("-c, --concurrency <list>", "per-client concurrency levels", "4,8,16,32,48,64,128")
    .option("-t, --type <mode>", "concurrency | request-rate", "concurrency")
    .option("-r, --request-rate <list>", "per-client request rates in req/s (with -t request-rate)", "1..10")
    .option("--itl <n>", "input tokens per request (random token ids)", "5000")
    .option("--otl <n>", "output tokens per request (max_tokens, ignore_eos)", "250")
    .option("-u, --base-url <url>", "server base URL (default: $OPENAI_API_URL or http://127.0.0.1:8000)")
    .option("-m, --model <id>", "model to request (default: the first of GET /v1/models)")
    .option(
      "-n, --num-prompts <n>",
      "requests per client per level (default 10 × concurrency, or 500 at a rate)",
    )
    .option(
      "--prompts-per-concurrency <n>",
      "requests per client per level = n × concurrency (default 10, as the seed)",
    )
    .option("-d, --duration <s>", "issue requests for this many seconds per level instead of a count")
    .option(
      "--warmup <n>",
      "requests per client per level issued first and left out of the statistics (default: one wave = the concurrency; 0 = none)",
    )
    .option(
      "--repeats <n>",
      "run the whole sweep N times (every level, then again); the report shows the spread",
      "1",
    )
    .option(
      "--burstiness <b>",
      "arrivals at a rate: 1 = Poisson, other values gamma, inf = constant spacing",
      "1",
    )
    .option("--seed <n>", "run seed (default: a fresh one, recorded in experiment.json)")
    .option("--goodput <slos>", "SLOs for goodput, e.g. ttft:500,tpot:50,e2el:20000 (ms)")
    .option("--prompt-format <f>", "token-ids | text (for servers that refuse token-id prompts)", "token-ids")
    .option("--results-dir <dir>", "where experiments live", "results")
    .option("--timeout <s>", "per-request timeout, seconds", "600")
    .option("--ttft-timeout <s>", "time allowed until the first token, seconds", "300")
    .option("--force", "replace the results already in EXP")
    .option("--resume", "keep EXP's complete levels and run the others")
    .option("--json", "print the experiment summary as JSON on stdout")
    .action(async (exp: string, flags: Record<string, string | boolean | undefined>) => {
      const { runBenchCommand } = await import("../bench/bench-command.js");
      await runBenchCommand(exp, flags, reporter);
    });
}
