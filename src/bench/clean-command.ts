import type { Reporter } from "../reporter.js";
import { cleanLeftovers } from "./clean.js";

export interface CleanOptions {
  dryRun?: boolean;
  json?: boolean;
}

/** `orchestrate clean [DIR]`: end benchmark clients a crashed run left, by recorded PID. */
export async function cleanCommand(dir: string, options: CleanOptions, reporter: Reporter): Promise<void> {
  const report = await cleanLeftovers(dir, { dryRun: options.dryRun === true });
  if (options.json) {
    reporter.result(JSON.stringify(report, null, 2));
    return;
  }
  const lines: string[] = [];
  for (const run of report.activeRuns) {
    lines.push(`${run.expDir}: a benchmark is running (coordinator PID ${run.coordinatorPid}); left alone`);
  }
  for (const e of report.entries) lines.push(`${e.expDir}: part ${e.part} PID ${e.pid}: ${e.state}`);
  if (lines.length === 0) lines.push(`nothing to clean under ${dir}`);
  reporter.result(lines.join("\n"));
}
