import { spawnSync } from "node:child_process";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { benchmarkMinutesPerCell, estimatePlan } from "../../src/plan/estimate.js";
import { expandCells } from "../../src/plan/expand.js";
import { loadPlan } from "../../src/plan/load.js";

const ROOT = resolve(import.meta.dirname, "../..");
const CLI = join(ROOT, "dist/bin.js");

/** A folder with the plans, and a PATH whose `anyscale` records any call made to it. */
function sandbox() {
  const dir = mkdtempSync(join(tmpdir(), "dry-run-"));
  cpSync(join(ROOT, "plans"), join(dir, "plans"), { recursive: true });
  const bin = join(dir, "bin");
  const calls = join(dir, "anyscale-calls.log");
  mkdirSync(bin);
  writeFileSync(join(bin, "anyscale"), `#!/bin/sh\necho "$@" >> ${calls}\nexit 0\n`);
  chmodSync(join(bin, "anyscale"), 0o755);
  return { dir, calls, env: { PATH: `${bin}:${process.env.PATH}`, HOME: dir } };
}

function orchestrate(args: string[], box = sandbox()) {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    cwd: box.dir,
    env: box.env,
    encoding: "utf8",
  });
  return { ...result, box };
}

describe("run --dry-run", () => {
  it("prints every command of the seed plan, exactly as pinned", () => {
    const { status, stdout, stderr } = orchestrate(["run", "plans/scaling.yaml", "--dry-run"]);
    expect(stderr).toBe("");
    expect(status).toBe(0);
    expect(stdout).toBe(readFileSync(join(ROOT, "test/fixtures/dry-run/scaling.txt"), "utf8"));
  });

  it("prints only the chosen cells with --only", () => {
    const { status, stdout } = orchestrate([
      "run",
      "plans/local.yaml",
      "--dry-run",
      "--only",
      "image=rayturbo-251,scale=2",
    ]);
    expect(status).toBe(0);
    expect(stdout).toBe(readFileSync(join(ROOT, "test/fixtures/dry-run/local-only.txt"), "utf8"));
  });

  it("renders the 6 service configs into a checkout without them, naming each; deploys nothing, needs no credentials", () => {
    const { status, stdout, box } = orchestrate(["run", "plans/scaling.yaml", "--dry-run"]);
    expect(status).toBe(0);
    expect(existsSync(box.calls)).toBe(false);
    // Only the service configs: no run folder, no images/, nothing else.
    expect(readdirSync(box.dir).sort()).toEqual(["bin", "oss_configs", "plans", "turbo_configs"]);
    const rendered = [
      "oss_configs/gptoss-120b-rayoss-251-x1.yaml",
      "oss_configs/gptoss-120b-rayoss-251-x2.yaml",
      "oss_configs/gptoss-120b-rayoss-251-x4.yaml",
      "turbo_configs/gptoss-120b-rayturbo-251-x1.yaml",
      "turbo_configs/gptoss-120b-rayturbo-251-x2.yaml",
      "turbo_configs/gptoss-120b-rayturbo-251-x4.yaml",
    ];
    for (const path of rendered) {
      expect(stdout).toContain(`written     (new)     ${path}`);
      // Exactly what `render` writes: the committed copy of the repository's plan.
      expect(readFileSync(join(box.dir, path), "utf8")).toBe(readFileSync(join(ROOT, path), "utf8"));
    }
  });

  it("leaves unchanged configs untouched and says which changed", () => {
    const box = sandbox();
    expect(orchestrate(["run", "plans/scaling.yaml", "--dry-run"], box).status).toBe(0);
    const kept = join(box.dir, "oss_configs/gptoss-120b-rayoss-251-x1.yaml");
    const edited = join(box.dir, "oss_configs/gptoss-120b-rayoss-251-x2.yaml");
    const keptMtime = statSync(kept).mtimeMs;
    writeFileSync(edited, "# edited by hand\n");
    const again = orchestrate(["run", "plans/scaling.yaml", "--dry-run"], box);
    expect(again.stdout).toContain("unchanged           oss_configs/gptoss-120b-rayoss-251-x1.yaml");
    expect(again.stdout).toContain("written     (changed) oss_configs/gptoss-120b-rayoss-251-x2.yaml");
    expect(statSync(kept).mtimeMs).toBe(keptMtime);
    expect(readFileSync(edited, "utf8")).toBe(
      readFileSync(join(ROOT, "oss_configs/gptoss-120b-rayoss-251-x2.yaml"), "utf8"),
    );
  });

  it("with --no-write, only shows what would be written", () => {
    const { status, stdout, box } = orchestrate(["run", "plans/scaling.yaml", "--dry-run", "--no-write"]);
    expect(status).toBe(0);
    expect(stdout).toContain("would write (new)     turbo_configs/gptoss-120b-rayturbo-251-x4.yaml");
    expect(readdirSync(box.dir).sort()).toEqual(["bin", "plans"]);
  });

  it("gives the steps as JSON, with each command as an argument list", () => {
    const { status, stdout } = orchestrate(["run", "plans/scaling.yaml", "--dry-run", "--json"]);
    expect(status).toBe(0);
    const out = JSON.parse(stdout);
    expect(out.preview.builds.map((b: any) => b.command)).toEqual([
      [
        "anyscale",
        "image",
        "build",
        "-f",
        "images/rayoss-251/Containerfile",
        "-n",
        "rayoss-251",
        "-r",
        "2.51.0",
      ],
      [
        "anyscale",
        "image",
        "build",
        "-f",
        "images/rayturbo-251/Containerfile",
        "-n",
        "rayturbo-251",
        "-r",
        "2.51.0",
      ],
    ]);
    const first = out.preview.cells[0];
    expect(first.steps.map((s: any) => s.step)).toEqual([
      "render",
      "deploy",
      "deploy",
      "wait",
      "ready",
      "bench",
      "teardown",
      "teardown",
    ]);
    expect(first.steps[1].command).toEqual([
      "anyscale",
      "service",
      "status",
      "-n",
      "gptoss-120b-rayoss-251-x1",
      "--json",
    ]);
    expect(first.steps[2].command).toEqual([
      "anyscale",
      "service",
      "deploy",
      "-f",
      "configs/gptoss-120b-rayoss-251-x1.yaml",
      "-n",
      "gptoss-120b-rayoss-251-x1",
      "--tag",
      "orchestrate-run=<run-id>",
    ]);
    expect(first.steps[6].command).toEqual([
      "anyscale",
      "service",
      "terminate",
      "-n",
      "gptoss-120b-rayoss-251-x1",
    ]);
  });

  it("rejects a broken plan with exit code 2 before doing anything", () => {
    const { status, stderr, stdout } = orchestrate([
      "run",
      join(ROOT, "test/fixtures/plans/bad/04-prefix-caching-on.yaml"),
      "--dry-run",
    ]);
    expect(status).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toContain(
      "model.engine_kwargs.enable_prefix_caching: prefix caching confounds scaling results",
    );
  });

  it("rejects a --only that matches nothing, naming what exists", () => {
    const { status, stderr } = orchestrate(["run", "plans/scaling.yaml", "--dry-run", "--only", "scale=8"]);
    expect(status).toBe(2);
    expect(stderr).toContain("--only matches no cell of plan gptoss-120b");
    expect(stderr).toContain("scales are 1, 2, 4");
  });
});

describe("the GPU-hour estimate", () => {
  it("is computed from the plan, as by hand", () => {
    const { plan } = loadPlan(join(ROOT, "plans/scaling.yaml"), { env: {} });
    const estimate = estimatePlan(plan, expandCells(plan));
    // Per level: a warm-up wave and 10 measured waves of one request of 1 s + 249 × 20 ms = 5.98 s,
    // 65.78 s; 7 levels = 460.46 s.
    const cellMinutes = 20 + 460.46 / 60 + 5;
    // Whole 8-GPU nodes: x1 and x2 need one node, x4 two; two images.
    const gpuHours = (2 * (8 + 8 + 16) * cellMinutes) / 60;
    expect(estimate.gpuHours).toBeCloseTo(gpuHours, 9);
    expect(estimate.costUsd).toBeCloseTo(gpuHours * 4, 9);
    expect(estimate.peakGpus).toBe(16);
  });

  it("counts every repeat and the warm-up wave, and nothing when warm-up is off", () => {
    const { plan } = loadPlan(join(ROOT, "plans/scaling.yaml"), { env: {} });
    const minutes = (benchmark: Partial<typeof plan.benchmark>) =>
      benchmarkMinutesPerCell({ ...plan, benchmark: { ...plan.benchmark, ...benchmark } });
    // 7 levels of 10 measured waves of 5.98 s, plus one warm-up wave each.
    expect(minutes({ warmup_requests: 0 })).toBeCloseTo((7 * 10 * 5.98) / 60, 9);
    expect(minutes({})).toBeCloseTo((7 * 11 * 5.98) / 60, 9);
    expect(minutes({ repeats: 3 })).toBeCloseTo((3 * 7 * 11 * 5.98) / 60, 9);
  });
});

describe("the command line", () => {
  it("has --help, per-command --help and --version", () => {
    const help = orchestrate(["--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/run \[options\] <plan>/);
    expect(help.stdout).toMatch(/render \[options\] <plan>/);
    const runHelp = orchestrate(["run", "--help"]);
    expect(runHelp.status).toBe(0);
    expect(runHelp.stdout).toContain("--dry-run");
    const version = orchestrate(["--version"]);
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version);
  });

  it("exits 2 on an unknown flag or a bad option value", () => {
    expect(orchestrate(["run", "plans/scaling.yaml", "--dry-rn"]).status).toBe(2);
    const bad = orchestrate(["run", "plans/scaling.yaml", "--dry-run", "--target", "kubernetes"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("must be anyscale or local");
  });

  it("says when a plan file does not exist", () => {
    const { status, stderr } = orchestrate(["run", "plans/nope.yaml", "--dry-run"]);
    expect(status).toBe(2);
    expect(stderr).toContain("plan file plans/nope.yaml does not exist");
  });
});
