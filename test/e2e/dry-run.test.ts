import { spawnSync } from "node:child_process";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { UserError } from "../../src/errors.js";
import { estimatePlan } from "../../src/plan/estimate.js";
import { expandCells } from "../../src/plan/expand.js";
import { loadPlan, parsePlanText } from "../../src/plan/load.js";
import { predictPlanFromFiles } from "../../src/twin/predict.js";

const ROOT = resolve(import.meta.dirname, "../..");
const CLI = join(ROOT, "dist/bin.js");

/** A folder with the plans and their profiles, and a PATH whose `anyscale` records any call made to it. */
function sandbox() {
  const dir = mkdtempSync(join(tmpdir(), "dry-run-"));
  cpSync(join(ROOT, "plans"), join(dir, "plans"), { recursive: true });
  cpSync(join(ROOT, "profiles"), join(dir, "profiles"), { recursive: true });
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

  it("works on a copy of plans/scaling.yaml anywhere: its profile is found by name", () => {
    const box = sandbox();
    cpSync(join(ROOT, "plans/scaling.yaml"), join(box.dir, "myplan.yaml"));
    rmSync(join(box.dir, "profiles"), { recursive: true });
    const { status, stdout, stderr } = orchestrate(["run", "myplan.yaml", "--dry-run", "--no-write"], box);
    expect(stderr).toBe("");
    expect(status).toBe(0);
    expect(stdout).toContain(
      "benchmark time predicted with the simulator profile gpt-oss-120b-tp4-h100 (shipped with orchestrate)",
    );
  });

  it("says, as predict and doctor do, how many repeats the plan runs and what they buy", () => {
    const box = sandbox();
    for (const command of ["predict", "doctor"]) {
      const { status, stdout } = orchestrate([command, "plans/local.yaml"], box);
      expect(status).toBe(0);
      expect(stdout).toContain("Repeats: 3 (benchmark.repeats): the whole sweep runs 3 times");
      expect(stdout).toContain("every E(N) gets a 95% interval");
    }
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
    expect(readdirSync(box.dir).sort()).toEqual(["bin", "oss_configs", "plans", "profiles", "turbo_configs"]);
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
    expect(readdirSync(box.dir).sort()).toEqual(["bin", "plans", "profiles"]);
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
      // Every tag on the command line: the CLI's --tag replaces the file's tags map.
      "--tag",
      "orchestrate-image=rayoss-251",
      "--tag",
      "orchestrate-plan=gptoss-120b",
      "--tag",
      "orchestrate-run=<run-id>",
      "--tag",
      "orchestrate-scale=x1",
    ]);
    // By the id the deploy creates, never by name.
    expect(first.steps[6].command).toEqual([
      "anyscale",
      "service",
      "terminate",
      "--service-id",
      "<service-id>",
    ]);
  });

  it("says that a containerfile deploy builds the image inside the deploy, in the steps and the estimate", () => {
    const { status, stdout } = orchestrate([
      "run",
      "plans/local.yaml",
      "--target",
      "anyscale",
      "--dry-run",
      "--json",
      "--only",
      "image=rayturbo-251,scale=1",
    ]);
    expect(status).toBe(0);
    const { preview } = JSON.parse(stdout);
    expect(preview.builds).toEqual([]);
    const deploy = preview.cells[0].steps.find((s: any) => s.command?.[2] === "deploy");
    expect(deploy.note).toContain(
      "builds the image from its Containerfile first and blocks until it is built",
    );
    expect(deploy.note).toContain("never sent twice while a build may run");
    expect(preview.estimate.assumptions).toContain(
      "includes the image build inside each containerfile deploy",
    );
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
  it("adds the predicted benchmark time to the plan's start-up and teardown, on whole nodes", () => {
    const { plan } = loadPlan(join(ROOT, "plans/scaling.yaml"), { env: {} });
    const cells = expandCells(plan);
    // Stand-in predictions: 7 minutes of benchmark for every cell.
    const estimate = estimatePlan(
      plan,
      cells,
      cells.map((c) => ({ cellId: c.id, benchmarkSeconds: 420 })),
    );
    const cellMinutes = 20 + 7 + 5;
    // Whole 8-GPU nodes: x1 and x2 need one node, x4 two; two images.
    const gpuHours = (2 * (8 + 8 + 16) * cellMinutes) / 60;
    expect(estimate.benchmarkKnown).toBe(true);
    expect(estimate.gpuHours).toBeCloseTo(gpuHours, 9);
    expect(estimate.costUsd).toBeCloseTo(gpuHours * 4, 9);
    expect(estimate.peakGpus).toBe(16);
  });

  it("counts every repeat and the warm-up wave, and no warm-up when it is off", async () => {
    const { plan } = loadPlan(join(ROOT, "plans/scaling.yaml"), { env: {} });
    const oneCell = expandCells(plan).slice(0, 1);
    const benchmarkSeconds = async (benchmark: Partial<typeof plan.benchmark>) => {
      const changed = { ...plan, benchmark: { ...plan.benchmark, ...benchmark } };
      return (await predictPlanFromFiles(changed, oneCell)).cells[0]!.benchmark_s;
    };
    const noWarmup = await benchmarkSeconds({ warmup_requests: 0, repeats: 1 });
    const withWarmup = await benchmarkSeconds({ repeats: 1 });
    // One extra wave on top of 10 measured ones per level: between 5% and 15% longer.
    expect(withWarmup / noWarmup).toBeGreaterThan(1.05);
    expect(withWarmup / noWarmup).toBeLessThan(1.15);
    expect(await benchmarkSeconds({ repeats: 3 })).toBeCloseTo(3 * withWarmup, 6);
  });

  it("says so when closed-loop levels cannot be timed without a profile", () => {
    const { plan } = loadPlan(join(ROOT, "plans/scaling.yaml"), { env: {} });
    const estimate = estimatePlan(plan, expandCells(plan));
    expect(estimate.benchmarkKnown).toBe(false);
    expect(estimate.assumptions).toContain("benchmark time NOT included");
    expect(estimate.gpuHours).toBeCloseTo((2 * (8 + 8 + 16) * 25) / 60, 9);
  });

  it("takes the dry run's time and cost from the twin's prediction", () => {
    const dry = orchestrate(["run", "plans/scaling.yaml", "--dry-run", "--json"]);
    expect(dry.status).toBe(0);
    const out = JSON.parse(dry.stdout);
    const predict = orchestrate(["predict", "plans/scaling.yaml", "--json"]);
    expect(predict.status).toBe(0);
    const prediction = JSON.parse(predict.stdout);
    expect(out.preview.estimate.benchmarkKnown).toBe(true);
    expect(out.preview.estimate.gpuHours).toBeCloseTo(prediction.gpu_hours, 6);
    expect(out.preview.estimate.costUsd).toBeCloseTo(prediction.cost_usd, 6);
    expect(prediction.duration_s).toBeCloseTo(out.preview.estimate.totalMinutes * 60, 3);
    // Six cells, each start-up + teardown (25 min) plus a benchmark of some minutes.
    expect(prediction.cells).toHaveLength(6);
    for (const cell of prediction.cells)
      expect(cell.duration_s).toBeGreaterThan(25 * 60 + cell.benchmark_s - 1);
  });

  it("rejects the removed latency assumptions with what replaced them", () => {
    const text = readFileSync(join(ROOT, "plans/scaling.yaml"), "utf8").replace(
      "cost:\n",
      "cost:\n  assumed_tpot_ms: 20\n",
    );
    const error = catchError(() => parsePlanText(text, join(ROOT, "plans/scaling.yaml"), { env: {} }));
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).details.join("\n")).toMatch(
      /cost\.assumed_tpot_ms: removed: the dry run now predicts request times with the simulator profile named by model\.profile/,
    );
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
    expect(stderr).toContain("plans/nope.yaml: no such file; expected a plan file (YAML)");
    expect(stderr).toMatch(/hint: the plans that ship with orchestrate: .*plans\/local\.yaml/);
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error");
}
