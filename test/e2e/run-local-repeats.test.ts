import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { orchestrate, runFolder, runState, workspace } from "../helpers/orchestrate-process.js";

/** `orchestrate run` of a local plan with `benchmark.repeats: 2` and a noisy simulator. */

describe.skipIf(process.platform !== "linux")("a local plan with repeats", { timeout: 240_000 }, () => {
  it("stores every repeat of every level, and the report and summary.csv carry E(N)'s interval", async () => {
    const cwd = workspace();
    const result = await orchestrate(["run", "test-plans/tiny-repeats.yaml"], { cwd });
    expect(result.code, result.stderr).toBe(0);
    const dir = runFolder(cwd);
    expect(runState(dir).status).toBe("succeeded");
    // The run ends with the answer, then where the report is.
    const answer = result.stdout.indexOf("Does it scale? E(N) per level");
    expect(answer).toBeGreaterThanOrEqual(0);
    expect(result.stdout.indexOf("Report: ")).toBeGreaterThan(answer);
    expect(result.stdout).toMatch(/oss +2x +2 +\d+\.\d%/);
    // And the report knows the run finished.
    const setup = JSON.parse(readFileSync(join(dir, "setup.json"), "utf8"));
    expect(Date.parse(setup.finishedAt)).toBeGreaterThanOrEqual(Date.parse(setup.startedAt));
    expect(readFileSync(join(dir, "report", "report.md"), "utf8")).not.toContain("(not finished)");

    const cells = readdirSync(join(dir, "cells"));
    expect(cells).toHaveLength(2);
    for (const cell of cells) {
      for (const key of ["conc2", "conc4"]) {
        for (const repeat of [1, 2]) {
          const own = join(dir, "cells", cell, `repeat${repeat}`);
          expect(existsSync(join(own, "part1", `${key}.json`)), `${cell} repeat ${repeat} ${key}`).toBe(true);
          expect(existsSync(join(own, "all-parts", `${key}.json`))).toBe(true);
        }
        const combined = JSON.parse(
          readFileSync(join(dir, "cells", cell, "all-parts", `${key}.json`), "utf8"),
        );
        expect(combined.repeats).toHaveLength(2);
        expect(combined.output_throughput_ci95).toHaveLength(2);
      }
    }

    const csv = readFileSync(join(dir, "report", "summary.csv"), "utf8")
      .trimEnd()
      .split("\r\n");
    const header = csv[0]!.split(",");
    const rows = csv
      .slice(1)
      .map((line) => Object.fromEntries(line.split(",").map((v, i) => [header[i], v])));
    const twoX = rows.filter((r) => r.scale === "2");
    expect(twoX).toHaveLength(2);
    for (const row of twoX) {
      expect(row.repeats).toBe("2");
      expect(row.clients).toBe("2");
      const [low, high, e] = [row.efficiency_ci95_low, row.efficiency_ci95_high, row.efficiency].map(Number);
      expect(low).toBeLessThanOrEqual(e!);
      expect(high).toBeGreaterThanOrEqual(e!);
      expect(["linear", "sub_linear", "superlinear_suspect", "inconclusive"]).toContain(
        row.efficiency_verdict,
      );
    }
    // The combined repeats file records its clients: 1x is one client, 2x two (never 0).
    for (const row of rows) expect(row.clients).toBe(row.scale);

    const report = readFileSync(join(dir, "report", "report.md"), "utf8");
    expect(report).toMatch(/E\(2x\): .*\(95% intervals from the repeats\)/);
    expect(report.indexOf("Does it scale? E(N) per level")).toBeLessThan(report.indexOf("In words"));
    expect(report).not.toContain("noise not measured");
  });
});
