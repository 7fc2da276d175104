import type { Command } from "commander";
import type { Reporter } from "../reporter.js";

export function register(program: Command, reporter: Reporter): void {
  program
    .command("doctor")
    .description(
      "check what a run on Anyscale needs before it starts: the anyscale CLI on PATH, and its credentials",
    )
    .argument("[plan]", "plan file (YAML); a local plan needs no checks")
    .action(async (planPath: string | undefined) => {
      const { doctorCommand } = await import("../run/doctor-command.js");
      await doctorCommand(planPath, reporter);
    });
}
