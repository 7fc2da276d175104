import type { Command } from "commander";
import type { Reporter } from "../reporter.js";
import type { RunOptions } from "../run/run-command.js";
import {
  ALLOW_CLI_VERSION_FLAG,
  ALLOW_CLI_VERSION_HELP,
  folderOption,
  onlyOption,
  targetOption,
} from "./shared-options.js";

export function register(program: Command, reporter: Reporter): void {
  program
    .command("run")
    .description(
      "the whole experiment: for each image × scale, deploy, wait until healthy, benchmark, tear down; then report",
    )
    .argument("<plan>", "plan file (YAML)")
    .option(
      "--dry-run",
      "render the service configs (as `render` does) and print every command a run would execute, and its GPU-hour estimate; deploy and build nothing",
    )
    .option("--no-write", "with --dry-run: show which service configs would change, without writing them")
    .option("--target <target>", "override the plan's target: anyscale or local", targetOption)
    .addOption(onlyOption())
    .option("--keep-services", "leave every service running after its benchmark (you terminate them)")
    .option(ALLOW_CLI_VERSION_FLAG, ALLOW_CLI_VERSION_HELP)
    .option(
      "--results-dir <dir>",
      "where run folders are created",
      folderOption("a folder for run folders (created if absent)"),
      "results",
    )
    .option("--json", "with --dry-run: print the plan of commands as JSON")
    .action(async (planPath: string, options: RunOptions) => {
      const { runCommand } = await import("../run/run-command.js");
      await runCommand(planPath, options, reporter);
    });
}
