import { type Command, Option } from "commander";
import type { Reporter } from "../reporter.js";
import type { RunOptions } from "../run/run-command.js";
import { collectOnly, folderOption, targetOption } from "./shared-options.js";

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
    .addOption(
      new Option(
        "--only <filter>",
        "only the cells matching every condition given, e.g. image=rayoss-251,scale=4; repeat --only to add more cells (a union), e.g. --only scale=1 --only scale=4",
      )
        .argParser(collectOnly)
        .default([], "every cell"),
    )
    .option("--keep-services", "leave every service running after its benchmark (you terminate them)")
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
