import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  runFolder,
  runState,
  startOrchestrate,
  until,
  untilJournaled,
  workspace,
} from "../helpers/orchestrate-process.js";

/**
 * `orchestrate run` on the local target: the simulator as child processes. No process may
 * outlive the orchestrator, whether it finishes, is interrupted or is killed.
 */

/** Simulator processes started by the orchestrator with this pid (they carry it in their environment). */
function simulatorsOf(orchestratorPid: number): number[] {
  const mine: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, "latin1").split("\0");
      if (environ.includes(`ORCHESTRATE_SIM_PARENT_PID=${orchestratorPid}`)) mine.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return mine;
}

const TINY = "test-plans/tiny.yaml";

describe.skipIf(process.platform !== "linux")("run on the local target", { timeout: 240_000 }, () => {
  it("runs the plan on simulators and leaves no process behind", async () => {
    const cwd = workspace();
    const run = startOrchestrate(["run", TINY, "--target", "local"], { cwd });
    const pid = run.child.pid!;
    await until(() => simulatorsOf(pid).length > 0, 30_000, "a simulator to start");
    const result = await run.done;
    expect(result.code, result.stderr).toBe(0);
    expect(simulatorsOf(pid)).toEqual([]);
    const dir = runFolder(cwd);
    expect(runState(dir).status).toBe("succeeded");
    expect(existsSync(join(dir, "report", "report.md"))).toBe(true);
  });

  it("on Ctrl-C: saves, stops the simulators, exits 130", async () => {
    const cwd = workspace();
    const run = startOrchestrate(["run", TINY, "--target", "local"], { cwd });
    const pid = run.child.pid!;
    await untilJournaled(
      cwd,
      (e) => e.type === "step_started" && e.step === "bench",
      30_000,
      "the benchmark",
    );
    run.child.kill("SIGINT");
    const result = await run.done;
    expect(result.code).toBe(130);
    expect(simulatorsOf(pid)).toEqual([]);
    expect(runState(runFolder(cwd)).status).toBe("interrupted");
  });

  it("after SIGKILL, the simulators notice their orchestrator is gone and exit", async () => {
    const cwd = workspace();
    const run = startOrchestrate(["run", TINY, "--target", "local"], { cwd });
    const pid = run.child.pid!;
    await until(() => simulatorsOf(pid).length > 0, 30_000, "a simulator to start");
    run.child.kill("SIGKILL");
    await run.done;
    await until(() => simulatorsOf(pid).length === 0, 5_000, "the orphaned simulators to exit");
  });
});
