import { execFile } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { writeVllmExperiment } from "../fixtures/vllm-files.js";

const BIN = resolve(import.meta.dirname, "../../dist/bin.js");
const exec = promisify(execFile);

async function orchestrate(
  args: string[],
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [BIN, ...args], { cwd });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function experiments(): string {
  const root = mkdtempSync(join(tmpdir(), "report-cli-"));
  writeVllmExperiment(join(root, "rayoss-x1"), 1, { 4: 1000, 8: 1800 });
  writeVllmExperiment(join(root, "rayoss-x2"), 2, { 4: 950, 8: 1700 });
  return root;
}

describe("orchestrate report", () => {
  it("writes the report into ./report for experiment folders and says where", async () => {
    const root = experiments();
    const result = await orchestrate(["report", "rayoss-x1", "rayoss-x2"], root);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Report written to report/\n");
    expect(result.stdout).toContain(
      "rayoss (open-source Ray): scaling efficiency over 1x, median per scale: 2x 94.7% (94.4%–95.0% over 2 levels).",
    );
    for (const file of ["report.md", "report.html", "summary.csv", "report.json"]) {
      expect(existsSync(join(root, "report", file)), file).toBe(true);
    }
  });

  it("prints what it wrote as JSON with --json, into --out", async () => {
    const root = experiments();
    const result = await orchestrate(
      ["report", "rayoss-x1", "rayoss-x2", "--out", "elsewhere", "--json"],
      root,
    );
    expect(result.code).toBe(0);
    const files = JSON.parse(result.stdout);
    expect(files.outDir).toBe(join(root, "elsewhere"));
    expect(files.charts.length).toBeGreaterThan(0);
    expect(existsSync(files.html)).toBe(true);
  });

  it("exits 2 with what is wrong and what to do for a folder with no results", async () => {
    const root = mkdtempSync(join(tmpdir(), "report-cli-"));
    const result = await orchestrate(["report", root], root);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`error: ${root}: not a run folder or an experiment folder`);
    expect(result.stderr).toContain("hint: expected setup.json (a run folder)");
  });

  it("exits 2 when --scale-from-name and --scale are both given", async () => {
    const root = experiments();
    const result = await orchestrate(
      ["report", "rayoss-x1", "--scale-from-name", "--scale", "rayoss-x1=1"],
      root,
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("cannot be used with option '--scale-from-name'");
  });

  it("is listed in --help", async () => {
    const result = await orchestrate(["--help"], tmpdir());
    expect(result.stdout).toMatch(/report \[options\] <dirs\.\.\.>\s+\(re\)build the scaling report/);
  });
});
