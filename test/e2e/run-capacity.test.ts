import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runFolder, startOrchestrate, workspace } from "../helpers/orchestrate-process.js";

/**
 * plans/capacity.yaml end to end on the local simulator: the report finds a capacity per replica at
 * the plan's SLO for every scale, with an interval from the repeats, and says how many replicas
 * its target rate needs. What the numbers should be is pinned by test/integration/capacity-sim.test.ts.
 */
describe.skipIf(process.platform !== "linux")("run plans/capacity.yaml", { timeout: 180_000 }, () => {
  it("reports capacity under the SLO per scale, its efficiency, and the replicas the target rate needs", async () => {
    const cwd = workspace();
    // 1x and 2x only: the 4x cell would double the test's time and add nothing the pipeline does
    // differently (test/integration/capacity-sim.test.ts measures 4x).
    const result = await startOrchestrate(
      ["run", "plans/capacity.yaml", "--only", "scale=1", "--only", "scale=2"],
      {
        cwd,
      },
    ).done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout + result.stderr).toContain("Does capacity scale? At p50 E2EL ≤ 200 ms");

    const report = join(runFolder(cwd), "report");
    const [header, ...rows] = readFileSync(join(report, "capacity.csv"), "utf8").trimEnd().split("\r\n");
    const columns = header!.split(",");
    const at = (row: string, column: string) => row.split(",")[columns.indexOf(column)]!;
    expect(rows.map((r) => at(r, "scale"))).toEqual(["1", "2"]);
    for (const row of rows) {
      // The plan's levels bracket the limit at every scale: a number, with a 95% interval around it.
      expect(at(row, "capacity_position")).toBe("between");
      const capacity = Number(at(row, "capacity_per_replica_req_s"));
      expect(capacity).toBeGreaterThan(0);
      expect(Number(at(row, "capacity_ci95_low"))).toBeLessThanOrEqual(capacity);
      expect(Number(at(row, "capacity_ci95_high"))).toBeGreaterThanOrEqual(capacity);
    }
    expect(rows.slice(1).map((r) => at(r, "capacity_efficiency_verdict"))).not.toContain("");

    const markdown = readFileSync(join(report, "report.md"), "utf8");
    expect(markdown).toContain("charts/capacity-rayoss-251.png");
    expect(markdown).toMatch(
      /rayoss-251: \d+ replicas .*to carry 400 req\/s at this SLO, extrapolated linearly from the capacity per replica measured at 2x/,
    );
  });
});
