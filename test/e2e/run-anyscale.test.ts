import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { createFakeAnyscale, type FakeAnyscale } from "../helpers/fake-anyscale.js";
import {
  filesUnder,
  journalEvents,
  orchestrate,
  runFolder,
  runState,
  startOrchestrate,
  until,
  untilJournaled,
  workspace,
} from "../helpers/orchestrate-process.js";

/**
 * `orchestrate run` end to end against the fake `anyscale` CLI, which serves every deployed
 * service through the simulator: the happy path, every failure the CLI contract allows, Ctrl-C,
 * SIGKILL and resume. Each must end with no service left running and a journal that tells the truth.
 */

const TINY = "test-plans/tiny.yaml";
const SECRETS = {
  OPENAI_API_KEY: "sk-e2e-openai-secret-000",
  ANYSCALE_CLI_TOKEN: "aph0_e2e_anyscale_token_000",
};

function setup(faults: Record<string, unknown> = {}) {
  const fake = createFakeAnyscale(faults);
  const cwd = workspace();
  const env = { ...fake.env, ...SECRETS };
  return { fake, cwd, env };
}

/** The fake CLI's calls, with runs of identical calls (polling) collapsed to one. */
function distinctCalls(fake: FakeAnyscale): string[] {
  const calls = fake.calls().map((argv) => ["anyscale", ...argv].join(" "));
  return calls.filter((call, i) => call !== calls[i - 1]);
}

function liveServices(fake: FakeAnyscale, names: string[]): string[] {
  return names.filter((name) => {
    const service = fake.service(name);
    return service !== undefined && !service.terminated;
  });
}

const SERVICES = ["tiny-oss-x1", "tiny-oss-x2"];

describe("run on the anyscale target (fake CLI)", { timeout: 120_000 }, () => {
  describe("one run of the whole plan, read by the tests below", () => {
    // The run takes ~10 s; both tests only read what it left, so they share it.
    let fake: FakeAnyscale;
    let cwd: string;
    let dry: Awaited<ReturnType<typeof orchestrate>>;
    let callsAfterDryRun: string[][];
    let result: Awaited<ReturnType<typeof orchestrate>>;
    beforeAll(async () => {
      let env: NodeJS.ProcessEnv;
      ({ fake, cwd, env } = setup());
      dry = await orchestrate(["run", TINY, "--dry-run", "--json"], { cwd, env });
      callsAfterDryRun = fake.calls();
      result = await orchestrate(["run", TINY], { cwd, env });
    }, 120_000);

    it("runs the plan: the commands it issues are those of the dry run, in order", () => {
      expect(dry.code).toBe(0);
      expect(callsAfterDryRun).toEqual([]); // the dry run touched nothing

      expect(result.stderr).not.toContain("FAILED");
      expect(result.code).toBe(0);
      const dir = runFolder(cwd);
      const runId = dir.split("/").pop()!;

      const preview = JSON.parse(dry.stdout).preview;
      // The ids the deploys created stand where the dry run could only name them.
      const withIds = (c: any) =>
        c.steps
          .filter((s: any) => s.command?.[0] === "anyscale")
          .map((s: any) =>
            s.command.map((a: string) => (a === "<service-id>" ? fake.service(c.cell.serviceName)?.id : a)),
          );
      const planned = [
        ...preview.preflight.map((b: any) => b.command),
        ...preview.builds.map((b: any) => b.command),
        ...preview.cells.flatMap(withIds),
      ].map((argv: string[]) => argv.join(" ").replace("<run-id>", runId));
      expect(distinctCalls(fake)).toEqual(planned);

      expect(liveServices(fake, SERVICES)).toEqual([]);
      const state = runState(dir);
      expect(state.status).toBe("succeeded");
      expect(state.cells.map((c: any) => [c.id, c.outcome, c.service, c.levelsDone])).toEqual([
        ["oss-x1", "succeeded", "terminated", ["conc2", "conc4"]],
        ["oss-x2", "succeeded", "terminated", ["conc2", "conc4"]],
      ]);
      expect(existsSync(join(dir, "report", "report.html"))).toBe(true);
      expect(existsSync(join(dir, "cells", "tiny-oss-x2", "all-parts", "conc4.json"))).toBe(true);
      // The deployed config names the image built in this run.
      expect(readFileSync(join(dir, "configs", "tiny-oss-x1.yaml"), "utf8")).toContain(
        "image_uri: anyscale/image/oss:1",
      );
    });

    it("writes no secret into any file of the run folder", () => {
      expect(result.code).toBe(0);
      const dir = runFolder(cwd);
      const queryTokens = SERVICES.map((name) => fake.service(name)?.token as string);
      for (const token of queryTokens) expect(token).toMatch(/^tok_/);
      for (const file of filesUnder(dir)) {
        const text = readFileSync(file).toString("latin1");
        for (const secret of [...queryTokens, SECRETS.OPENAI_API_KEY, SECRETS.ANYSCALE_CLI_TOKEN]) {
          expect(text.includes(secret), `${file} contains a secret`).toBe(false);
        }
      }
    });
  });

  it("retries transient API errors and succeeds", async () => {
    const { fake, cwd, env } = setup({ transient: { "service status": 2, "service deploy": 1 } });
    const result = await orchestrate(["run", TINY, "--only", "scale=1"], { cwd, env });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("retrying anyscale service");
    expect(liveServices(fake, SERVICES)).toEqual([]);
  });

  it("stops at once on an auth failure, saying what to do, with nothing deployed", async () => {
    const { fake, cwd, env } = setup({ auth: true });
    const result = await orchestrate(["run", TINY], { cwd, env });
    expect(result.code).toBe(1);
    expect(result.stdout + result.stderr).toContain("ANYSCALE_CLI_TOKEN");
    expect(fake.calls().map((c) => c.slice(0, 2).join(" "))).toEqual(["--version", "image build"]);
    const state = runState(runFolder(cwd));
    expect(state.status).toBe("failed");
    expect(state.cells.every((c: any) => c.service === "none")).toBe(true);
  });

  it("records a config rejected at deploy, with nothing left running", async () => {
    const { fake, cwd, env } = setup({ deploy_rejected: true });
    const result = await orchestrate(["run", TINY], { cwd, env });
    expect(result.code).toBe(1);
    const state = runState(runFolder(cwd));
    expect(state.cells[0].steps).toMatchObject({ render: "done", deploy: "failed", wait: "pending" });
    expect(state.cells[0].error).toContain("Invalid service config");
    expect(liveServices(fake, SERVICES)).toEqual([]);
  });

  it.each([
    ["SYSTEM_FAILURE during start", { system_failure: true, start_ms: 0 }, "entered SYSTEM_FAILURE"],
    [
      "a service that stays UNHEALTHY",
      { unhealthy: true, start_ms: 0 },
      "stayed UNHEALTHY for more than 1.0 s",
    ],
    [
      "a service that never becomes ready",
      { start_ms: 3_600_000 },
      "was not RUNNING by its deadline (last state STARTING)",
    ],
    [
      "an unknown state",
      { unknown_state: "PENDING_NEW_THING" },
      "was not RUNNING by its deadline (last state UNKNOWN)",
    ],
  ])("fails the cell on %s and terminates its service", async (_name, faults, message) => {
    const { fake, cwd, env } = setup(faults);
    // A short ready deadline for the two cases that wait it out.
    const result = await orchestrate(["run", TINY, "--only", "scale=1"], {
      cwd,
      env: { ...env, TINY_READY_TIMEOUT_S: "3" },
    });
    expect(result.code).toBe(1);
    const state = runState(runFolder(cwd));
    expect(state.cells[0]).toMatchObject({ outcome: "failed", service: "terminated" });
    expect(state.cells[0].steps).toMatchObject({ deploy: "done", wait: "failed", teardown: "done" });
    expect(state.cells[0].error).toContain(message);
    expect(fake.service("tiny-oss-x1")?.terminated).toBe(true);
  });

  it("catches a terminate that exits 0 but leaves the service up, says so loudly, and `teardown` ends it", async () => {
    const { fake, cwd, env } = setup({ terminate_noop: true });
    const result = await orchestrate(["run", TINY, "--only", "scale=1"], {
      cwd,
      env: { ...env, TINY_TERMINATE_TIMEOUT_S: "1" },
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("SERVICES LEFT RUNNING");
    expect(result.stdout).toContain("tiny-oss-x1");
    const dir = runFolder(cwd);
    // The journal does not claim a termination that did not happen.
    expect(runState(dir).cells[0].service).toBe("deployed");
    expect(liveServices(fake, SERVICES)).toEqual(["tiny-oss-x1"]);

    fake.setFaults({});
    const teardown = await orchestrate(["teardown", dir], { cwd, env });
    expect(teardown.code).toBe(0);
    expect(teardown.stdout).toContain("Terminated 1 service(s) of this run.");
    expect(liveServices(fake, SERVICES)).toEqual([]);
    expect(runState(dir).cells[0].service).toBe("terminated");
  });

  it("on Ctrl-C while waiting for a deploy: tears it down and exits 130", async () => {
    const { fake, cwd, env } = setup({ start_ms: 3_600_000 });
    const run = startOrchestrate(["run", TINY], { cwd, env });
    await until(() => fake.calls().some((c) => c[1] === "deploy"), 30_000, "the first deploy");
    await until(() => fake.calls().filter((c) => c[1] === "status").length >= 3, 30_000, "the wait to start");
    run.child.kill("SIGINT");
    const result = await run.done;
    expect(result.code).toBe(130);
    expect(result.stderr).toContain("Stopping");
    expect(liveServices(fake, SERVICES)).toEqual([]);
    const state = runState(runFolder(cwd));
    expect(state.status).toBe("interrupted");
    expect(state.cells[0]).toMatchObject({ service: "terminated" });
    expect(state.cells[0].outcome).toBeUndefined();
    expect(state.cells[1].service).toBe("none");
  });

  it("a second Ctrl-C stops waiting for the termination to be confirmed, but terminate is still sent", async () => {
    const { fake, cwd, env } = setup({ start_ms: 3_600_000, terminate_noop: true });
    const run = startOrchestrate(["run", TINY], { cwd, env: { ...env, TINY_TERMINATE_TIMEOUT_S: "120" } });
    await until(() => fake.calls().filter((c) => c[1] === "status").length >= 3, 30_000, "the wait to start");
    run.child.kill("SIGINT");
    await until(() => fake.calls().some((c) => c[1] === "terminate"), 30_000, "terminate to be sent");
    const secondAt = Date.now();
    run.child.kill("SIGINT");
    const result = await run.done;
    expect(result.code).toBe(130);
    expect(Date.now() - secondAt).toBeLessThan(15_000); // not the 120 s terminate deadline
    expect(result.stdout).toContain("terminate sent for tiny-oss-x1 but not confirmed");
    expect(result.stdout).toContain("SERVICES LEFT RUNNING");
    // The journal does not pretend it was terminated; `teardown` can finish the job later.
    expect(runState(runFolder(cwd)).cells[0].service).toBe("deployed");
    fake.setFaults({});
    expect((await orchestrate(["teardown", runFolder(cwd)], { cwd, env })).code).toBe(0);
    expect(liveServices(fake, SERVICES)).toEqual([]);
  });

  it("on Ctrl-C mid-benchmark: keeps the finished levels, tears down, exits 130; resume finishes only the rest", async () => {
    const { fake, cwd, env } = setup();
    const run = startOrchestrate(["run", TINY], { cwd, env });
    const dir = await untilJournaled(
      cwd,
      (e) => e.type === "level_done" && e.cell === "oss-x1",
      60_000,
      "the first level",
    );
    run.child.kill("SIGINT");
    const result = await run.done;
    expect(result.code).toBe(130);
    expect(liveServices(fake, SERVICES)).toEqual([]);
    const before = runState(dir);
    expect(before.cells[0].levelsDone.length).toBeGreaterThanOrEqual(1);

    const resumed = await orchestrate(["resume", dir], { cwd, env });
    expect(resumed.code).toBe(0);
    const after = runState(dir);
    expect(after.status).toBe("succeeded");
    // Finished levels were not run again: each appears once among the journal's level_done events.
    const levelEvents = journalEvents(dir)
      .filter((e) => e.type === "level_done")
      .map((e) => `${e.cell}/${e.level}`);
    expect(levelEvents.sort()).toEqual(["oss-x1/conc2", "oss-x1/conc4", "oss-x2/conc2", "oss-x2/conc4"]);
    expect(liveServices(fake, SERVICES)).toEqual([]);
  });

  it("after SIGKILL mid-benchmark, resume reuses the running service and re-runs only the unfinished level", async () => {
    const { fake, cwd, env } = setup();
    const run = startOrchestrate(["run", TINY, "--only", "scale=1"], { cwd, env });
    const dir = await untilJournaled(
      cwd,
      (e) => e.type === "level_done" && e.level === "conc2",
      60_000,
      "level conc2",
    );
    run.child.kill("SIGKILL");
    await run.done;
    // The orchestrator is gone; its service is not (it runs "in the cloud").
    expect(liveServices(fake, SERVICES)).toEqual(["tiny-oss-x1"]);
    const finishedBefore = readFileSync(join(dir, "cells/tiny-oss-x1/all-parts/conc2.json"), "utf8");
    const deploysBefore = fake.calls().filter((c) => c[1] === "deploy").length;

    const resumed = await orchestrate(["resume", dir], { cwd, env });
    expect(resumed.stderr).toContain("tiny-oss-x1: still RUNNING; reusing it");
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    expect(fake.calls().filter((c) => c[1] === "deploy").length).toBe(deploysBefore);
    // conc2 was finished and is untouched; conc4 was run (again, whole).
    expect(readFileSync(join(dir, "cells/tiny-oss-x1/all-parts/conc2.json"), "utf8")).toBe(finishedBefore);
    expect(existsSync(join(dir, "cells/tiny-oss-x1/all-parts/conc4.json"))).toBe(true);
    expect(runState(dir)).toMatchObject({ status: "succeeded" });
    expect(liveServices(fake, SERVICES)).toEqual([]);
  });

  it("refuses to resume with an edited plan unless told to", async () => {
    const { cwd, env } = setup({ deploy_rejected: true });
    await orchestrate(["run", TINY, "--only", "scale=1"], { cwd, env });
    const dir = runFolder(cwd);
    const planPath = join(cwd, TINY);
    const text = readFileSync(planPath, "utf8");
    const { writeFileSync } = await import("node:fs");
    writeFileSync(planPath, text.replace("output_tokens: 16", "output_tokens: 17"));
    const refused = await orchestrate(["resume", dir], { cwd, env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`${TINY} has changed since this run began`);
  });

  it("runs plans/local.yaml against the fake CLI too (the same plan, --target anyscale)", async () => {
    const { fake, cwd, env } = setup();
    // The same plan, with its sweep cut to one level and one repeat: what this test proves is
    // that every key of a local plan is valid on the anyscale target, not the sweep again (the
    // fake serves with the simulator's built-in costs, so the full sweep would take minutes).
    const plan = join(cwd, "plans", "local.yaml");
    const text = readFileSync(plan, "utf8");
    const shortened = text
      .replace("concurrency: [4, 32]", "concurrency: [4]")
      .replace("repeats: 3", "repeats: 1");
    expect(shortened).not.toBe(text);
    writeFileSync(plan, shortened);
    const result = await orchestrate(
      ["run", "plans/local.yaml", "--target", "anyscale", "--only", "image=rayturbo-251,scale=1"],
      { cwd, env },
    );
    expect(result.code).toBe(0);
    expect(liveServices(fake, ["local-sim-rayturbo-251-x1"])).toEqual([]);
    expect(runState(runFolder(cwd)).status).toBe("succeeded");
  });
});
