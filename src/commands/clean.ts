import type { Command } from "commander";

/** `orchestrate clean [DIR]`: end benchmark clients a crashed run left, by recorded PID. */
export function register(program: Command): void {
  program
    .command("clean")
    .description(
      "End benchmark client processes that a crashed run left behind, by the PIDs it recorded in pids.json " +
        "(never by name; each PID is checked to be a client of that experiment first)",
    )
    .argument("[DIR]", "an experiment or run folder, searched recursively", "results")
    .option("--dry-run", "only show what would be ended")
    .option("--json", "print the report as JSON")
    .action(async (dir: string, flags: { dryRun?: boolean; json?: boolean }) => {
      const { cleanLeftovers } = await import("../bench/clean.js");
      const report = await cleanLeftovers(dir, { dryRun: flags.dryRun === true });
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        return;
      }
      const lines: string[] = [];
      for (const run of report.activeRuns) {
        lines.push(
          `${run.expDir}: a benchmark is running (coordinator PID ${run.coordinatorPid}); left alone`,
        );
      }
      for (const e of report.entries) lines.push(`${e.expDir}: part ${e.part} PID ${e.pid}: ${e.state}`);
      if (lines.length === 0) lines.push(`nothing to clean under ${dir}`);
      process.stdout.write(`${lines.join("\n")}\n`);
    });
}
