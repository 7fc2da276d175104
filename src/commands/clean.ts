import type { Command } from "commander";
import type { Reporter } from "../reporter.js";
import { folderArgument } from "./shared-options.js";

/** `orchestrate clean [DIR]`: end benchmark clients a crashed run left, by recorded PID. */
export function register(program: Command, reporter: Reporter): void {
  program
    .command("clean")
    .description(
      "End benchmark client processes that a crashed run left behind, by the PIDs it recorded in pids.json " +
        "(never by name; each PID is checked to be a client of that experiment first)",
    )
    .argument(
      "[DIR]",
      "an experiment or run folder, searched recursively",
      folderArgument("an experiment or run folder"),
      "results",
    )
    .option("--dry-run", "only show what would be ended")
    .option("--json", "print the report as JSON")
    .action(async (dir: string, options: { dryRun?: boolean; json?: boolean }) => {
      const { cleanCommand } = await import("../bench/clean-command.js");
      await cleanCommand(dir, options, reporter);
    });
}
