import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { packageRoot } from "../../src/paths.js";
import { runCli } from "../helpers/cli.js";

const PART_ENTRY = join(packageRoot, "dist", "bench", "part-main.js");
const started: ChildProcess[] = [];

afterEach(() => {
  for (const child of started)
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  started.length = 0;
});

/** A long-lived node process whose command line is whatever we say (it runs only `-e`). */
function lingering(...argv: string[]): ChildProcess {
  const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)", "--", ...argv], {
    stdio: "ignore",
  });
  started.push(child);
  return child;
}

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((r) => child.on("exit", r));
  return child.pid!;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

function experiment(pids: { coordinator: number; parts: number[] }): string {
  const dir = join(mkdtempSync(join(tmpdir(), "clean-")), "results", "crashed");
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "pids.json"),
    JSON.stringify({
      coordinator_pid: pids.coordinator,
      started_at: new Date().toISOString(),
      parts: pids.parts.map((pid, i) => ({ part: i + 1, pid })),
    }),
  );
  return dir;
}

describe("orchestrate clean", () => {
  it("ends only the recorded PIDs that are clients of that experiment", async () => {
    const coordinator = await deadPid();
    const gone = await deadPid();
    const dir = experiment({ coordinator, parts: [0, 0, 0] });
    const leftover = lingering(PART_ENTRY, "--exp", dir, "--part", "1");
    const stranger = lingering("--exp", dir, "--part", "2"); // not a part: no part-main.js
    const otherExperiment = lingering(PART_ENTRY, "--exp", `${dir}-other`, "--part", "3");
    writeFileSync(
      join(dir, "pids.json"),
      JSON.stringify({
        coordinator_pid: coordinator,
        started_at: "",
        parts: [
          { part: 1, pid: leftover.pid },
          { part: 2, pid: stranger.pid },
          { part: 3, pid: otherExperiment.pid },
          { part: 4, pid: gone },
        ],
      }),
    );

    const dry = await runCli(["clean", join(dir, ".."), "--dry-run", "--json"]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout).entries.map((e: { state: string }) => e.state)).toEqual([
      "would end",
      "not a part of this experiment",
      "not a part of this experiment",
      "not running",
    ]);
    expect(alive(leftover.pid!)).toBe(true);

    const run = await runCli(["clean", join(dir, "..")]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`part 1 PID ${leftover.pid}: ended`);
    expect(alive(leftover.pid!)).toBe(false);
    expect(alive(stranger.pid!)).toBe(true);
    expect(alive(otherExperiment.pid!)).toBe(true);
  });

  it("leaves a run alone while its coordinator is alive and still the parent of its parts", async () => {
    const dir = experiment({ coordinator: process.pid, parts: [] });
    const part = lingering(PART_ENTRY, "--exp", dir, "--part", "1"); // our child: we are its coordinator
    writeFileSync(
      join(dir, "pids.json"),
      JSON.stringify({ coordinator_pid: process.pid, started_at: "", parts: [{ part: 1, pid: part.pid }] }),
    );
    const run = await runCli(["clean", dir]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/a benchmark is running \(coordinator PID \d+\); left alone/);
    expect(alive(part.pid!)).toBe(true);
    expect(existsSync(join(dir, "pids.json"))).toBe(true);
  });

  it("says so when there is nothing to clean", async () => {
    const dir = mkdtempSync(join(tmpdir(), "clean-empty-"));
    const run = await runCli(["clean", dir]);
    expect(run).toMatchObject({ code: 0 });
    expect(run.stdout).toMatch(/nothing to clean/);
  });
});
