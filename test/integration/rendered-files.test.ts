import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { expandCells } from "../../src/plan/expand.js";
import { loadPlan } from "../../src/plan/load.js";
import { compareWithDisk, renderPlanFiles } from "../../src/render/write.js";

const ROOT = resolve(import.meta.dirname, "../..");
const CLI = join(ROOT, "dist/bin.js");

describe("the committed rendered files", () => {
  it("are up to date with plans/scaling.yaml (run `orchestrate render plans/scaling.yaml` if this fails)", () => {
    const { plan } = loadPlan(join(ROOT, "plans/scaling.yaml"), { env: {} });
    const files = renderPlanFiles(plan, expandCells(plan));
    expect(files).toHaveLength(8);
    const stale = files.filter((f) => compareWithDisk(ROOT, f) !== "unchanged").map((f) => f.path);
    expect(stale).toEqual([]);
  });

  it("`render --check` notices a plan change that was not rendered", () => {
    const work = mkdtempSync(join(tmpdir(), "stale-"));
    cpSync(join(ROOT, "plans"), join(work, "plans"), { recursive: true });
    for (const dir of ["oss_configs", "turbo_configs", "images", "profiles"])
      cpSync(join(ROOT, dir), join(work, dir), { recursive: true });
    const check = () =>
      spawnSync(process.execPath, [CLI, "render", "plans/scaling.yaml", "--check"], {
        cwd: work,
        encoding: "utf8",
      });

    expect(check().status).toBe(0);
    const planPath = join(work, "plans/scaling.yaml");
    writeFileSync(
      planPath,
      readFileSync(planPath, "utf8").replace("kv_cache_dtype: fp8", "kv_cache_dtype: auto"),
    );
    const stale = check();
    expect(stale.status).toBe(1);
    expect(stale.stderr).toContain("6 rendered files are out of date with plans/scaling.yaml");

    execFileSync(process.execPath, [CLI, "render", "plans/scaling.yaml"], { cwd: work });
    expect(check().status).toBe(0);
  });
});
