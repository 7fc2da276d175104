import type { Command } from "commander";
import type { RenderOptions } from "../render/render-command.js";
import type { Reporter } from "../reporter.js";
import { folderOption, onlyOption, targetOption } from "./shared-options.js";

export function register(program: Command, reporter: Reporter): void {
  program
    .command("render")
    .description(
      "write the service configs (oss_configs/, turbo_configs/) and images/ of a plan, and show what `run` would execute",
    )
    .argument("<plan>", "plan file (YAML)")
    .option(
      "-o, --out <dir>",
      "folder to render into",
      folderOption("a folder to render into (created if absent)"),
      ".",
    )
    .option("--check", "write nothing; exit 1 if any rendered file is missing or out of date")
    .option("--target <target>", "override the plan's target: anyscale or local", targetOption)
    .addOption(onlyOption())
    .option("--json", "print the result as JSON")
    .action(async (planPath: string, options: RenderOptions) => {
      const { renderCommand } = await import("../render/render-command.js");
      await renderCommand(planPath, options, reporter);
    });
}
