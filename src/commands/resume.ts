import type { Command } from "commander";
import type { Reporter } from "../reporter.js";
import type { ResumeOptions } from "../run/resume-command.js";
import { ALLOW_CLI_VERSION_FLAG, ALLOW_CLI_VERSION_HELP } from "./shared-options.js";

export function register(program: Command, reporter: Reporter): void {
  program
    .command("resume")
    .description(
      "continue a failed or interrupted run at the step that did not finish (finished levels are never re-run)",
    )
    .argument("<run-dir>", "the run folder, e.g. results/gptoss-120b-20261128-101500")
    .option("--allow-plan-change", "resume even though the plan file was edited since the run began")
    .option("--keep-services", "leave every service running after its benchmark")
    .option(ALLOW_CLI_VERSION_FLAG, ALLOW_CLI_VERSION_HELP)
    .action(async (dir: string, options: ResumeOptions) => {
      const { resumeCommand } = await import("../run/resume-command.js");
      await resumeCommand(dir, options, reporter);
    });
}
