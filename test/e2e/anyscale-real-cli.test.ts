import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  createFakeAnyscale,
  type FakeAnyscale,
  stopAfterTest,
  stopServicesLeftByTest,
} from "../helpers/fake-anyscale.js";
import {
  journaledState,
  orchestrate,
  runFolder,
  runKilledOnceIdentified,
  runState,
  workspace,
} from "../helpers/orchestrate-process.js";

/**
 * Issue 15, end to end: the ways the real anyscale CLI 0.26.81 differs from our old picture of it,
 * each against the fake that now behaves like it. Every test checks the fake's own state and
 * calls: our services down, nothing of anyone else's touched.
 */

const SECRETS = {
  OPENAI_API_KEY: "sk-e2e-openai-secret-222",
  ANYSCALE_CLI_TOKEN: "aph0_e2e_anyscale_token_222",
};

/** A workspace whose copy of the tiny plan is edited by `edit`; returns its path in the workspace. */
function setup(faults: Record<string, unknown> = {}, edit: (plan: string) => string = (p) => p) {
  const fake = createFakeAnyscale(faults);
  const cwd = workspace();
  const plan = join(cwd, "test-plans", "tiny.yaml");
  const text = readFileSync(plan, "utf8");
  const edited = edit(text);
  writeFileSync(plan, edited);
  return { fake, cwd, env: { ...fake.env, ...SECRETS }, plan: "test-plans/tiny.yaml" };
}

const renamed = (name: string) => (text: string) => text.replace(/^name: tiny$/m, `name: ${name}`);

function withDeploy(lines: string) {
  return (text: string) => text.replace(/^deploy:\n/m, `deploy:\n${lines}`);
}

function terminateCalls(fake: FakeAnyscale): string[][] {
  return fake.calls().filter((c) => c[1] === "terminate");
}

/** The fake CLI run directly, as another user of the same Anyscale organization would. */
function anyscaleAsSomeoneElse(fake: FakeAnyscale, args: string[]): void {
  execFileSync("anyscale", args, { env: fake.env, stdio: "ignore" });
}

afterEach(stopServicesLeftByTest);

describe("against a CLI that behaves like anyscale 0.26.81", { timeout: 180_000 }, () => {
  it("a plan named cloud-lab runs and tears down (its 'not found' is about the service, not a cloud)", async () => {
    const { fake, cwd, env, plan } = setup({}, renamed("cloud-lab"));
    const result = await orchestrate(["run", plan, "--only", "scale=1"], { cwd, env });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(runState(runFolder(cwd)).cells[0]).toMatchObject({ outcome: "succeeded", service: "terminated" });
    expect(fake.service("cloud-lab-oss-x1")?.terminated).toBe(true);
  });

  it("a deleted cloud-… service is gone to teardown: exit 0", async () => {
    const { fake, cwd, env, plan } = setup({}, renamed("cloud-lab"));
    const kept = await orchestrate(["run", plan, "--only", "scale=1", "--keep-services"], { cwd, env });
    expect(kept.code, kept.stdout + kept.stderr).toBe(0);
    fake.deleteService("cloud-lab-oss-x1");
    const teardown = await orchestrate(["teardown", runFolder(cwd)], { cwd, env });
    expect(teardown.code, teardown.stdout + teardown.stderr).toBe(0);
    expect(teardown.stdout).toContain("No service of this run was running.");
    expect(runState(runFolder(cwd)).cells[0].service).toBe("terminated");
  });

  it("a containerfile deploy that builds for longer than cli_timeout_s is sent once, and the run succeeds", async () => {
    const { fake, cwd, env, plan } = setup({ build_ms: 4_000 }, (text) =>
      text.replace("    from: anyscale/ray-llm", "    build: containerfile\n    from: anyscale/ray-llm"),
    );
    const started = Date.now();
    const result = await orchestrate(["run", plan, "--only", "scale=1"], {
      cwd,
      env: { ...env, TINY_CLI_TIMEOUT_S: "2" },
    });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(fake.calls().filter((c) => c[1] === "deploy")).toHaveLength(1);
    expect(fake.calls().filter((c) => c[0] === "image")).toEqual([]);
    expect(fake.builds()).toEqual([expect.objectContaining({ name: "tiny-oss-x1", ok: true })]);
    expect(fake.service("tiny-oss-x1")?.terminated).toBe(true);
    console.log(
      `containerfile deploy with a 4 s build under a 2 s cli_timeout_s: run took ${Date.now() - started} ms`,
    );
  });

  it("the deployed service carries every tag: the plan's, orchestrate-plan/-image/-scale and the run id", async () => {
    const { fake, cwd, env, plan } = setup({}, withDeploy("  tags:\n    team: inference\n"));
    const result = await orchestrate(["run", plan, "--only", "scale=1"], { cwd, env });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const runId = runFolder(cwd).split("/").pop();
    expect(fake.service("tiny-oss-x1")?.tags).toEqual({
      team: "inference",
      "orchestrate-plan": "tiny",
      "orchestrate-image": "oss",
      "orchestrate-scale": "x1",
      "orchestrate-run": runId,
    });
  });

  it("refuses a plan tag the CLI would mangle, naming its line, before anything runs", async () => {
    const { fake, cwd, env, plan } = setup({}, withDeploy('  tags:\n    owner: "team:inference"\n'));
    const result = await orchestrate(["run", plan], { cwd, env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'test-plans/tiny.yaml:23:12  deploy.tags.owner: tag value "team:inference" would be mangled by the anyscale CLI\'s --tag',
    );
    expect(fake.calls()).toEqual([]);
  });

  it("teardown of an old run leaves alone the same name deployed again later (same id, new version)", async () => {
    const { fake, cwd, env, plan } = setup({}, (t) => t);
    const kept = await orchestrate(["run", plan, "--only", "scale=1", "--keep-services"], { cwd, env });
    expect(kept.code, kept.stdout + kept.stderr).toBe(0);
    const dir = runFolder(cwd);
    const ours = runState(dir).cells[0];
    // Someone else ends our service and deploys the name again: Anyscale restarts the same service.
    anyscaleAsSomeoneElse(fake, ["service", "terminate", "--service-id", ours.serviceId]);
    const theirVersion = fake.someoneRestarts("tiny-oss-x1");
    expect(fake.service("tiny-oss-x1")?.id).toBe(ours.serviceId);
    const before = terminateCalls(fake).length;

    const teardown = await orchestrate(["teardown", dir], { cwd, env });
    expect(teardown.code, teardown.stdout + teardown.stderr).toBe(0);
    expect(teardown.stdout).toContain(
      `service tiny-oss-x1 is not ours: it was deployed again after ours (version ${theirVersion}, this run's was ${ours.versionId}); left alone`,
    );
    expect(terminateCalls(fake)).toHaveLength(before);
    expect(fake.service("tiny-oss-x1")).toMatchObject({ id: ours.serviceId, terminated: false });
    expect(runState(dir).cells[0]).toMatchObject({
      foreignId: ours.serviceId,
      foreignVersionId: theirVersion,
    });
  });

  it("resume leaves alone our service id deployed again by someone else, and goes on with the other cells", async () => {
    const { fake, cwd, env, plan } = setup({ start_ms: 3_600_000 });
    // Killed while waiting for x1 to start: its service is up, its id and version recorded.
    const dir = await runKilledOnceIdentified(plan, "oss-x1", { cwd, env });
    const ours = journaledState(dir).cells[0];
    anyscaleAsSomeoneElse(fake, ["service", "terminate", "--service-id", ours.serviceId]);
    const theirVersion = fake.someoneRestarts("tiny-oss-x1");
    fake.setFaults({});
    const before = fake.calls().length;

    const resumed = await orchestrate(["resume", dir], { cwd, env });
    expect(resumed.code).toBe(1);
    expect(resumed.stderr).toContain(
      `tiny-oss-x1: not ours: this run's service was deployed again by someone else (now version ${theirVersion})`,
    );
    expect(resumed.stdout).toContain(
      `FAILED tiny-oss-x1: service tiny-oss-x1 now belongs to someone else (id ${ours.serviceId}, deployed again as version ${theirVersion})`,
    );
    const after = fake.calls().slice(before);
    expect(after.filter((c) => c[1] === "terminate" && c.includes(ours.serviceId))).toEqual([]);
    expect(after.filter((c) => c[1] === "deploy" && c.includes("tiny-oss-x1"))).toEqual([]);
    expect(fake.service("tiny-oss-x1")).toMatchObject({ id: ours.serviceId, terminated: false });
    expect(fake.service("tiny-oss-x2")?.terminated).toBe(true);
  });

  it("with deploy.project set and the same name in another project: benchmarks and tears down its own only", async () => {
    const { fake, cwd, env, plan } = setup({}, withDeploy("  project: research\n"));
    const theirs = fake.serviceInOtherProject("tiny-oss-x1", "other");
    const result = await orchestrate(["run", plan, "--only", "scale=1"], { cwd, env });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(runState(runFolder(cwd)).cells[0]).toMatchObject({ outcome: "succeeded", service: "terminated" });
    expect(fake.service("tiny-oss-x1", "research")?.terminated).toBe(true);
    expect(fake.service("tiny-oss-x1", "other")).toMatchObject({ id: theirs, terminated: false });
    const lookups = fake.calls().filter((c) => c[1] === "status");
    expect(lookups.length).toBeGreaterThan(0);
    for (const call of lookups) expect(call.join(" ")).toContain("--project research");
    expect(fake.calls().some((c) => c.includes(theirs))).toBe(false);
    expect(existsSync(join(runFolder(cwd), "cells", "tiny-oss-x1", "all-parts", "conc4.json"))).toBe(true);
  });

  it("without deploy.project, an older terminated same-named service elsewhere: never taken for ours, and said loudly", async () => {
    const { fake, cwd, env, plan } = setup();
    const theirs = fake.serviceInOtherProject("tiny-oss-x1", "other", { terminated: true });
    const result = await orchestrate(["run", plan, "--only", "scale=1"], { cwd, env });
    // Ours went to the default project, but every lookup by name answers with theirs.
    const ours = fake.service("tiny-oss-x1", "default");
    stopAfterTest(ours?.pid);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("SERVICES LEFT RUNNING");
    expect(result.stdout).toContain(
      `the deploy was accepted, but the name answers with a TERMINATED service (id ${theirs}, project other)`,
    );
    const dir = runFolder(cwd);
    expect(runState(dir).cells[0].serviceId).toBeUndefined();
    const teardown = await orchestrate(["teardown", dir], { cwd, env });
    expect(teardown.code).toBe(1);
    expect(teardown.stderr).toContain("tiny-oss-x1: not reachable by name");
    expect(fake.calls().some((c) => c.includes(theirs))).toBe(false);
    expect(terminateCalls(fake)).toEqual([]);
    expect(ours?.terminated).toBe(false);
  });

  it("anyscale 0.24.64 is refused by doctor and run, before anything is built or deployed", async () => {
    const { fake, cwd, env, plan } = setup({ version: "0.24.64" });
    const doctor = await orchestrate(["doctor", plan], { cwd, env });
    expect(doctor.code).toBe(2);
    expect(doctor.stderr).toContain("the Anyscale CLI is version 0.24.64; orchestrate needs 0.26.0 or newer");
    const run = await orchestrate(["run", plan], { cwd, env });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("version 0.24.64");
    expect(run.stderr).toContain("--allow-cli-version");
    expect(fake.calls()).toEqual([["--version"], ["--version"]]);
    expect(existsSync(join(cwd, "results"))).toBe(false);
  });
});
