import type { Command } from "commander";

export function register(program: Command): void {
  program
    .command("status")
    .description(
      "runs and their state; for one run folder: its cells, steps, levels and services still alive",
    )
    .argument("[run-dir]", "a run folder; without it, every run under --results-dir")
    .option("--results-dir <dir>", "where run folders are", "results")
    .option("--json", "print the state as JSON")
    .action(async (dir: string | undefined, options: { resultsDir: string; json?: boolean }) => {
      const { statusCommand } = await import("../run/status-command.js");
      await statusCommand(dir, options);
    });
}
