import type { Command } from "commander";
import type { Reporter } from "../reporter.js";
import type { ResultsOptions } from "../results/results-command.js";
import { fileOption, folderOption } from "./shared-options.js";

/** `orchestrate results [DIR...]`: list experiments, or show their level tables. */
export function register(program: Command, reporter: Reporter): void {
  program
    .command("results")
    .description(
      "List the experiments under --results-dir, or show each level of the given experiments " +
        "(ours, or folders of `vllm bench serve` JSON: part*/conc*.json, all-parts/)",
    )
    .argument(
      "[EXP...]",
      "experiments: the name `bench` gave one (looked up under --results-dir), or a folder (a run folder stands for its cells)",
    )
    .option(
      "--results-dir <dir>",
      "where experiments live: listed without DIR, and where an EXP name is looked up",
      folderOption("a folder of experiments"),
      "results",
    )
    .option(
      "--records <file>",
      "print a raw records file (partK/LEVEL.records.bin) as JSON lines",
      fileOption("a records file (partK/LEVEL.records.bin)"),
    )
    .option("--json", "print the experiment summaries as JSON")
    .action(async (dirs: string[], options: ResultsOptions) => {
      const { showResults } = await import("../results/results-command.js");
      await showResults(dirs, options, reporter);
    });
}
