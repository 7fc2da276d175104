import type { Command } from "commander";
import type { Reporter } from "../reporter.js";
import { ALLOW_CLI_VERSION_FLAG, ALLOW_CLI_VERSION_HELP } from "./shared-options.js";

export function register(program: Command, reporter: Reporter): void {
  program
    .command("doctor")
    .description(
      "check what a run on Anyscale needs before it starts: the anyscale CLI on PATH, new enough, and its credentials",
    )
    .argument("[plan]", "plan file (YAML); a local plan needs no checks")
    .option(ALLOW_CLI_VERSION_FLAG, ALLOW_CLI_VERSION_HELP)
    .action(async (planPath: string | undefined, options: { allowCliVersion?: boolean }) => {
      const { doctorCommand } = await import("../run/doctor-command.js");
      await doctorCommand(planPath, options, reporter);
    });
}
