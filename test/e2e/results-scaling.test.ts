import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CLI, ROOT } from "../helpers/orchestrate-process.js";

const SEED = join(ROOT, "../shared/data/seed-bm-results");

describe.skipIf(!existsSync(SEED))("results of several scales", () => {
  it("adds the scaling tables and says how to draw the charts", () => {
    const result = spawnSync(
      process.execPath,
      [CLI, "results", join(SEED, "rayoss251-x2"), join(SEED, "rayoss251-x4")],
      { encoding: "utf8", cwd: ROOT },
    );
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("rayoss251-x2");
    expect(result.stdout).toMatch(/S 4x\s+E 4x/);
    // Pastes as it was started here: node and the built file, relative to the folder it ran in.
    expect(result.stdout).toContain(
      `Charts: run \`node dist/bin.js report ${join(SEED, "rayoss251-x2")} ${join(SEED, "rayoss251-x4")}\``,
    );
  });
});
