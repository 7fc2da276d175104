import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { clearStalePids, type ProcessTable } from "../../../src/bench/clean.js";
import { PART_ENTRY } from "../../../src/bench/fleet.js";

function experiment(pids: { coordinator_pid: number; parts: Array<{ part: number; pid: number }> }): string {
  const dir = mkdtempSync(join(tmpdir(), "stale-"));
  writeFileSync(join(dir, "pids.json"), JSON.stringify({ ...pids, started_at: "2026-11-28T00:00:00Z" }));
  return dir;
}

function table(alive: Record<number, string[]>): ProcessTable {
  return {
    commandLine: async (pid) => alive[pid],
    parentPid: async () => undefined,
    isAlive: (pid) => pid in alive,
    signal: () => {},
  };
}

describe("a pids.json left by a crash", () => {
  it("is removed when its coordinator and parts are gone", async () => {
    const dir = experiment({ coordinator_pid: 101, parts: [{ part: 1, pid: 102 }] });
    expect(await clearStalePids(dir, table({}))).toBe(true);
    expect(existsSync(join(dir, "pids.json"))).toBe(false);
  });

  it("is kept while the coordinator lives", async () => {
    const dir = experiment({ coordinator_pid: 101, parts: [] });
    expect(await clearStalePids(dir, table({ 101: ["/usr/bin/node", "dist/bin.js", "bench"] }))).toBe(false);
    expect(existsSync(join(dir, "pids.json"))).toBe(true);
  });

  it("is kept while one of its parts still runs, and not for a reused pid", async () => {
    const dir = experiment({
      coordinator_pid: 101,
      parts: [
        { part: 1, pid: 102 },
        { part: 2, pid: 103 },
      ],
    });
    const part = ["/usr/bin/node", `/x/dist/${PART_ENTRY}`, "--exp", dir];
    expect(await clearStalePids(dir, table({ 103: part }))).toBe(false);
    // pid 102 is alive but is some other program now: not ours, so the file is stale.
    expect(await clearStalePids(dir, table({ 102: ["/usr/sbin/sshd"] }))).toBe(true);
  });
});
