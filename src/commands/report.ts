import { type Command, Option } from "commander";
import type { ReportOptions } from "../report/report-command.js";
import type { Reporter } from "../reporter.js";
import { folderArguments, folderOption } from "./shared-options.js";

/** `orchestrate report RUN_DIR|EXP_DIR... [--out DIR] [--scale-from-name | --scale EXP=N ...] [--json]` */
export function register(program: Command, reporter: Reporter): void {
  program
    .command("report")
    .summary("(re)build the scaling report from a run folder or experiment folders")
    .description(
      "Builds the scaling report (report.md, report.html, summary.csv, report.json, charts/*.svg|png) from a run " +
        "folder (it has setup.json; its experiments are under cells/), from experiment folders written by " +
        "`orchestrate bench`, or from folders of `vllm bench serve` results such as the seed's bm_results/*.",
    )
    .argument(
      "<dirs...>",
      "a run folder, experiment folders, or a folder holding experiment folders",
      folderArguments("a run folder or experiment folders"),
    )
    .option(
      "-o, --out <dir>",
      "where to write (default: RUN_DIR/report for one run folder, else ./report)",
      folderOption("a folder for the report (created if absent)"),
    )
    .addOption(
      new Option(
        "--scale-from-name",
        "take image and scale from folder names (IMAGE-xN), over what folders record",
      ),
    )
    .addOption(
      new Option("--scale <name=n>", "the scale (LLM replicas) of one experiment; repeat for each")
        .argParser((value: string, previous: string[] = []) => [...previous, value])
        .conflicts("scaleFromName"),
    )
    .option(
      "--linearity-tolerance <fraction>",
      "the difference the verdicts treat as none: 0.05 or 5% (default: the run's report.linearity_tolerance, else 5%)",
    )
    .option("--json", "print what was written as JSON")
    .action(async (dirs: string[], options: ReportOptions) => {
      const { runReportCommand } = await import("../report/report-command.js");
      reporter.result((await runReportCommand(dirs, options)).trimEnd());
    });
}
