import type { Command } from "commander";
import type { Reporter } from "../reporter.js";

export function register(program: Command, reporter: Reporter): void {
  program
    .command("teardown")
    .description("terminate every service a run created that is still up, and confirm it")
    .argument("<run-dir>", "the run folder")
    .action(async (dir: string) => {
      const { teardownCommand } = await import("../run/teardown-command.js");
      await teardownCommand(dir, reporter);
    });
}
