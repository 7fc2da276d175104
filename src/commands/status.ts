import type { Command } from "commander";
import type { Reporter } from "../reporter.js";
import type { StatusOptions } from "../run/status-command.js";
import { folderOption } from "./shared-options.js";

export function register(program: Command, reporter: Reporter): void {
  program
    .command("status")
    .description(
      "runs and their state; for one run folder: its cells, steps, levels and services still alive",
    )
    .argument("[run-dir]", "a run folder; without it, every run under --results-dir")
    .option(
      "--results-dir <dir>",
      "where run folders are",
      folderOption("a folder of run folders"),
      "results",
    )
    .option("--json", "print the state as JSON")
    .action(async (dir: string | undefined, options: StatusOptions) => {
      const { statusCommand } = await import("../run/status-command.js");
      await statusCommand(dir, options, reporter);
    });
}
