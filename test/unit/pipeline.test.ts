import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { type Clock, wallClock } from "../../src/clock.js";
import { ExternalError, Interrupted } from "../../src/errors.js";
import { expandCells } from "../../src/plan/expand.js";
import { loadPlan } from "../../src/plan/load.js";
import { Journal, readJournal } from "../../src/run/journal.js";
import { executeRun, type RunContext } from "../../src/run/pipeline.js";
import type { BenchRunner, BuildingTarget, ReadinessProbe, ReportBuilder } from "../../src/run/ports.js";
import { reconcileWithReality } from "../../src/run/reconcile.js";
import { finish } from "../../src/run/run-command.js";
import { createRunFolder } from "../../src/run/run-folder.js";
import type { ServiceState, ServiceStatus } from "../../src/targets/target.js";
import { capturingReporter } from "../helpers/reporter.js";

/**
 * The pipeline's control flow against in-memory stand-ins: which calls happen in which order,
 * what a failure or Ctrl-C tears down, what the journal says, what a resume redoes.
 */

const PLAN = `
name: demo
model: { model_id: m }
images:
  - { name: oss, from: base, env: { ANYSCALE_DISABLE_OPTIMIZED_RAY: "1" } }
scales: [1, 2]
compute: { config: c }
benchmark: { concurrency: [4, 8] }
deploy: { ready_timeout_s: 5, terminate_timeout_s: 5 }
`;

// Wall time, with waits cut short so polls do not slow the test down.
const clock: Clock = {
  ...wallClock,
  sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 5))),
};

class MemoryTarget implements BuildingTarget {
  readonly kind = "anyscale" as const;
  calls: string[] = [];
  services = new Map<string, ServiceState>();
  failDeployOf?: string;
  failWaitWith?: ExternalError;
  terminateIsNoop = false;

  async buildImage(image: { name: string }) {
    this.calls.push(`build ${image.name}`);
    return `anyscale/image/${image.name}:1`;
  }
  async deploy(request: { serviceName: string }) {
    this.calls.push(`deploy ${request.serviceName}`);
    if (request.serviceName === this.failDeployOf)
      throw new ExternalError("deploy refused", { kind: "validation" });
    this.services.set(request.serviceName, "RUNNING");
  }
  async status(name: string): Promise<ServiceStatus | undefined> {
    const state = this.services.get(name);
    return state ? { name, state } : undefined;
  }
  async waitReady(name: string) {
    this.calls.push(`wait ${name}`);
    if (this.failWaitWith) throw this.failWaitWith;
    return { name, url: `http://${name}.example`, token: "secret-query-token" };
  }
  async terminate(name: string) {
    this.calls.push(`terminate ${name}`);
    if (!this.terminateIsNoop) this.services.set(name, "TERMINATED");
  }
}

const probe: ReadinessProbe = { check: async (endpoint) => `${endpoint.name} answered` };

class MemoryBench implements BenchRunner {
  runs: Array<{ exp: string; levels: number[] }> = [];
  /** Abort this controller when a level of this name starts (to simulate Ctrl-C mid-benchmark). */
  interruptAt?: { level: string; controller: AbortController };
  done = new Set<string>();

  async run(request: Parameters<BenchRunner["run"]>[0], hooks: Parameters<BenchRunner["run"]>[1]) {
    this.runs.push({ exp: request.expDir, levels: request.levels });
    for (const level of request.levels) {
      const key = `${request.expDir}#conc${level}`;
      if (this.done.has(key)) continue; // finished levels are never re-run
      if (this.interruptAt?.level === `conc${level}`) {
        this.interruptAt.controller.abort("SIGINT");
        throw new Interrupted("benchmark stopped");
      }
      const place = { position: request.levels.indexOf(level) + 1, levels: request.levels.length };
      hooks.onProgress?.({
        level: `conc${level}`,
        done: 1,
        total: 1,
        failed: 0,
        ...place,
        repeat: 1,
        repeats: 1,
        startedAtMs: Date.now(),
      });
      this.done.add(key);
      hooks.onLevelDone?.(`conc${level}`);
    }
  }
}

const report: ReportBuilder = { build: async (dir) => ({ dir: join(dir, "report"), answer: "" }) };

async function setup(planText = PLAN) {
  const dir = mkdtempSync(join(tmpdir(), "pipeline-"));
  const planPath = join(dir, "plan.yaml");
  writeFileSync(planPath, planText);
  const { plan, hash } = loadPlan(planPath, { env: {} });
  const cells = expandCells(plan);
  const folder = await createRunFolder(join(dir, "results"), plan, planText);
  const journal = await Journal.create(folder.dir, {
    type: "run_started",
    format: 1,
    runId: folder.runId,
    planName: plan.name,
    planPath,
    planHash: hash,
    target: plan.target,
    cells: cells.map((c) => ({ id: c.id, serviceName: c.serviceName })),
  });
  const target = new MemoryTarget();
  const bench = new MemoryBench();
  const graceful = new AbortController();
  const urgent = new AbortController();
  const ctx: RunContext = {
    plan,
    planDir: dir,
    cells,
    folder,
    journal,
    target,
    probe,
    bench,
    report,
    clock,
    graceful: graceful.signal,
    urgent: urgent.signal,
    keepServices: false,
    renderer: "silent",
  };
  return { ctx, target, bench, journal, folder, graceful, urgent };
}

describe("the pipeline", () => {
  it("builds once, then runs every cell's steps in plan order and tears each down", async () => {
    const { ctx, target, journal } = await setup();
    const summary = await executeRun(ctx);
    expect(summary.outcome).toBe("succeeded");
    expect(target.calls).toEqual([
      "build oss",
      "deploy demo-oss-x1",
      "wait demo-oss-x1",
      "terminate demo-oss-x1",
      "deploy demo-oss-x2",
      "wait demo-oss-x2",
      "terminate demo-oss-x2",
    ]);
    const state = journal.state;
    expect(state.status).toBe("succeeded");
    expect(state.images.oss?.uri).toBe("anyscale/image/oss:1");
    expect(state.cells.map((c) => [c.id, c.outcome, c.service, c.levelsDone])).toEqual([
      ["oss-x1", "succeeded", "terminated", ["conc4", "conc8"]],
      ["oss-x2", "succeeded", "terminated", ["conc4", "conc8"]],
    ]);
    expect(summary.reportDir).toMatch(/report$/);
  });

  it("records when the measurements finished before building the report, so the report knows", async () => {
    const { ctx, folder } = await setup();
    let seen: unknown;
    ctx.report = {
      build: async (dir) => {
        seen = JSON.parse(readFileSync(join(dir, "setup.json"), "utf8")).finishedAt;
        return { dir: join(dir, "report"), answer: "the verdict table" };
      },
    };
    const before = clock.toEpochMs(clock.now());
    const summary = await executeRun(ctx);
    const finished = Date.parse(String(seen));
    expect(finished).toBeGreaterThanOrEqual(Math.floor(before));
    expect(finished).toBeLessThanOrEqual(clock.toEpochMs(clock.now()));
    expect(JSON.parse(readFileSync(join(folder.dir, "setup.json"), "utf8")).finishedAt).toBe(seen);
    expect(summary.answer).toBe("the verdict table");
  });

  it("deploys the config it rendered, with the built image", async () => {
    const { ctx, folder } = await setup();
    await executeRun(ctx);
    const config = readFileSync(folder.configPath("demo-oss-x2"), "utf8");
    expect(config).toContain("image_uri: anyscale/image/oss:1");
    expect(config).toContain("min_replicas: 2");
  });

  it("tears a failed cell down and goes on with the next", async () => {
    const { ctx, target, journal } = await setup();
    target.failWaitWith = new ExternalError("service demo-oss-x1 entered SYSTEM_FAILURE", {
      kind: "service_failed",
    });
    const summary = await executeRun(ctx);
    expect(summary.outcome).toBe("failed");
    expect(target.calls.filter((c) => c.startsWith("terminate"))).toEqual([
      "terminate demo-oss-x1",
      "terminate demo-oss-x2",
    ]);
    const [first] = journal.state.cells;
    expect(first).toMatchObject({
      outcome: "failed",
      service: "terminated",
      error: "service demo-oss-x1 entered SYSTEM_FAILURE",
    });
    expect(first?.steps).toMatchObject({
      deploy: "done",
      wait: "failed",
      bench: "pending",
      teardown: "done",
    });
  });

  it("stops the whole run on an auth error", async () => {
    const { ctx, target } = await setup();
    target.failWaitWith = new ExternalError("Unauthorized", { kind: "auth" });
    const summary = await executeRun(ctx);
    expect(target.calls.filter((c) => c.startsWith("deploy"))).toEqual(["deploy demo-oss-x1"]);
    expect(summary.cells.map((c) => c.outcome)).toEqual(["failed", "skipped"]);
    expect(summary.warnings.join()).toContain("the run stopped early: Unauthorized");
  });

  it("leaves a failed service up with teardown: on-success, and says so", async () => {
    const { ctx, target } = await setup(`${PLAN}teardown: on-success\n`);
    target.failWaitWith = new ExternalError("never healthy", { kind: "service_failed" });
    const summary = await executeRun(ctx);
    expect(target.calls.filter((c) => c.startsWith("terminate"))).toEqual([]);
    expect(summary.leftRunning.map((s) => s.serviceName)).toEqual(["demo-oss-x1", "demo-oss-x2"]);
  });

  it("keeps every service with --keep-services", async () => {
    const { ctx, target } = await setup();
    const summary = await executeRun({ ...ctx, keepServices: true });
    expect(summary.outcome).toBe("succeeded");
    expect(target.calls.some((c) => c.startsWith("terminate"))).toBe(false);
    expect(summary.leftRunning.map((s) => s.serviceName)).toEqual(["demo-oss-x1", "demo-oss-x2"]);
  });

  it("refuses to deploy over a service this run did not start", async () => {
    const { ctx, target, journal } = await setup();
    target.services.set("demo-oss-x1", "RUNNING");
    await executeRun(ctx);
    expect(target.calls).not.toContain("deploy demo-oss-x1");
    expect(target.calls).not.toContain("terminate demo-oss-x1");
    expect(journal.state.cells[0]?.error).toBe(
      "service demo-oss-x1 already exists (RUNNING) and this run did not start it",
    );
  });

  it("on Ctrl-C mid-benchmark: stops, keeps finished levels, terminates, and leaves the cell to resume", async () => {
    const { ctx, target, bench, journal, graceful } = await setup();
    bench.interruptAt = { level: "conc8", controller: graceful };
    const summary = await executeRun(ctx);
    expect(summary.outcome).toBe("interrupted");
    expect(target.calls).toEqual([
      "build oss",
      "deploy demo-oss-x1",
      "wait demo-oss-x1",
      "terminate demo-oss-x1",
    ]);
    const [first, second] = journal.state.cells;
    expect(first).toMatchObject({ levelsDone: ["conc4"], service: "terminated" });
    expect(first?.outcome).toBeUndefined();
    expect(second?.service).toBe("none");
    expect(journal.state.status).toBe("interrupted");
    expect(summary.levelsKept).toBe(1);
  });

  it("calls Ctrl-C an interrupt, not a failure to roll back, and counts the levels it kept", async () => {
    const { ctx, bench, graceful, folder } = await setup();
    bench.interruptAt = { level: "conc8", controller: graceful };
    const printed: string[] = [];
    const write = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
      printed.push(String(chunk));
      return true;
    });
    let summary: Awaited<ReturnType<typeof executeRun>>;
    try {
      summary = await executeRun({ ...ctx, renderer: "simple" });
    } finally {
      write.mockRestore();
    }
    const progress = printed.join("");
    expect(progress).toContain("[1/2] demo-oss-x1");
    expect(progress).toContain("benchmark: interrupted");
    expect(progress).toContain("tear down: after the interrupt, demo-oss-x1 terminated");
    expect(progress).not.toMatch(/ROLLBACK|after the failure/);

    const { reporter, said } = capturingReporter();
    expect(() => finish(summary, folder, reporter)).toThrow(Interrupted);
    expect(said()).toContain(
      "Interrupted: 0 of 2 cells measured in full; 1 benchmark level measured so far is kept, and a resume does not run them again.",
    );
  });

  it("resumes: rewinds to what must be redone and never re-runs a finished level", async () => {
    const { ctx, target, bench, journal, graceful } = await setup();
    bench.interruptAt = { level: "conc8", controller: graceful };
    await executeRun(ctx);

    // A new process: fresh signals, the journal re-read from disk, the real state re-checked.
    const reopened = Journal.open(ctx.folder.dir);
    bench.interruptAt = undefined;
    const logs: string[] = [];
    await reconcileWithReality(
      reopened,
      target,
      () => Date.now() + 1000,
      (m) => logs.push(m),
    );
    expect(logs).toEqual(["demo-oss-x1: was torn down when the run stopped; it will be deployed again"]);
    target.calls = [];
    const summary = await executeRun({ ...ctx, journal: reopened, graceful: new AbortController().signal });
    expect(summary.outcome).toBe("succeeded");
    // The image was built before: not again. The first cell is deployed again (its service was gone).
    expect(target.calls[0]).toBe("deploy demo-oss-x1");
    expect(target.calls).not.toContain("build oss");
    const firstCellRuns = bench.runs.filter((r) => r.exp.endsWith("demo-oss-x1"));
    expect(firstCellRuns).toHaveLength(2);
    expect(reopened.state.cells[0]?.levelsDone).toEqual(["conc4", "conc8"]);
    expect(journal).not.toBe(reopened);
  });

  it("reuses a service that is still running when a crashed run resumes", async () => {
    const { ctx, target, journal } = await setup();
    // As if the orchestrator died right after deploy: recorded, deployed, nothing else.
    await journal.append({ type: "step_done", cell: "oss-x1", step: "render" });
    await journal.append({ type: "service_recorded", cell: "oss-x1", serviceName: "demo-oss-x1" });
    await journal.append({ type: "step_done", cell: "oss-x1", step: "deploy" });
    target.services.set("demo-oss-x1", "RUNNING");
    await reconcileWithReality(
      journal,
      target,
      () => Date.now() + 1000,
      () => {},
    );
    await executeRun(ctx);
    expect(target.calls.filter((c) => c.includes("demo-oss-x1"))).toEqual([
      "wait demo-oss-x1",
      "terminate demo-oss-x1",
    ]);
  });

  it("writes no secret into the journal", async () => {
    const { ctx, folder } = await setup();
    await executeRun(ctx);
    const text = readFileSync(join(folder.dir, "journal.jsonl"), "utf8");
    expect(text).not.toContain("secret-query-token");
    expect(readJournal(folder.dir).length).toBeGreaterThan(10);
  });
});
