import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  createFakeAnyscale,
  type FakeAnyscale,
  stopAfterTest,
  stopServicesLeftByTest,
} from "../helpers/fake-anyscale.js";
import {
  filesUnder,
  journaledState,
  orchestrate,
  runFolder,
  runKilledOnceIdentified,
  runState,
  startOrchestrate,
  untilJournaled,
  workspace,
} from "../helpers/orchestrate-process.js";

/**
 * The faults of issue 10, each against the fake `anyscale` CLI (whose messages are generic, not
 * written for our classifier). Every test ends with every service of ours confirmed down, checked
 * in the fake's own state, and nothing of anyone else's touched, checked in its recorded calls.
 */

const TINY = "test-plans/tiny.yaml";
const SECRETS = {
  OPENAI_API_KEY: "sk-e2e-openai-secret-111",
  ANYSCALE_CLI_TOKEN: "aph0_e2e_anyscale_token_111",
};
const SERVICES = ["tiny-oss-x1", "tiny-oss-x2"];

function setup(faults: Record<string, unknown> = {}) {
  const fake = createFakeAnyscale(faults);
  const cwd = workspace();
  return { fake, cwd, env: { ...fake.env, ...SECRETS } };
}

/** Services of ours the fake still runs. */
function liveServices(fake: FakeAnyscale, names = SERVICES): string[] {
  return names.filter((name) => {
    const service = fake.service(name);
    return service !== undefined && !service.terminated;
  });
}

/** Calls of a command about a service: by its name, or (terminate) by its id. */
function callsFor(fake: FakeAnyscale, command: string, name: string): number {
  const id = fake.service(name)?.id;
  return fake.calls().filter((argv) => argv[1] === command && (argv.includes(name) || argv.includes(id)))
    .length;
}

function expectNoSecrets(dir: string, fake: FakeAnyscale) {
  const tokens = SERVICES.map((n) => fake.service(n)?.token).filter(Boolean) as string[];
  for (const file of filesUnder(dir)) {
    const text = readFileSync(file).toString("latin1");
    for (const secret of [...tokens, SECRETS.OPENAI_API_KEY, SECRETS.ANYSCALE_CLI_TOKEN]) {
      expect(text.includes(secret), `${file} contains a secret`).toBe(false);
    }
  }
}

afterEach(stopServicesLeftByTest);

describe("cloud faults, end to end (fake anyscale CLI)", { timeout: 180_000 }, () => {
  it("no anyscale on PATH: an environment problem (exit 2) in seconds, with the install and login hint, before any run folder", async () => {
    const { fake, cwd } = setup();
    const emptyBin = mkdtempSync(join(tmpdir(), "no-anyscale-"));
    const started = Date.now();
    const result = await orchestrate(["run", TINY], {
      cwd,
      env: { ...SECRETS, PATH: emptyBin, HOME: cwd },
    });
    const elapsedMs = Date.now() - started;
    expect(result.code).toBe(2);
    expect(elapsedMs).toBeLessThan(10_000);
    expect(result.stderr).toContain("error: the `anyscale` command was not found on PATH");
    expect(result.stderr).toContain("pip install anyscale");
    expect(result.stderr).toContain("anyscale login");
    expect(existsSync(join(cwd, "results"))).toBe(false);
    expect(fake.calls()).toEqual([]);
    console.log(`missing anyscale CLI: failed in ${elapsedMs} ms`);
    const doctor = await orchestrate(["doctor"], { cwd, env: { ...SECRETS, PATH: emptyBin, HOME: cwd } });
    expect(doctor.code).toBe(2);
    expect(doctor.stderr).toContain("error: the `anyscale` command was not found on PATH");
    expect(doctor.stderr).toContain("pip install anyscale");
  });

  it("no credentials: an environment problem (exit 2) in seconds, with the login hint, before any run folder", async () => {
    const { fake, cwd } = setup();
    const env: NodeJS.ProcessEnv = { ...fake.env, OPENAI_API_KEY: SECRETS.OPENAI_API_KEY, HOME: cwd };
    delete env.ANYSCALE_CLI_TOKEN;
    const started = Date.now();
    const result = await orchestrate(["run", TINY], { cwd, env });
    expect(result.code).toBe(2);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.stderr).toContain("the Anyscale CLI has no credentials");
    expect(result.stderr).toContain("anyscale login");
    expect(existsSync(join(cwd, "results"))).toBe(false);
    expect(fake.calls()).toEqual([["--version"]]);
    // `doctor` runs the same checks on request, and passes once credentials are there.
    const doctor = await orchestrate(["doctor", TINY], { cwd, env });
    expect(doctor.code).toBe(2);
    expect(doctor.stderr).toContain("anyscale login");
    const ok = await orchestrate(["doctor", TINY], { cwd, env: { ...env, ...SECRETS } });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("anyscale CLI: 0.26.81");
  });

  it("a hung status call: killed with its process group after cli_timeout_s, retried, and the run completes", async () => {
    const { fake, cwd, env } = setup({ hang: { "service status": 1 } });
    const result = await orchestrate(["run", TINY, "--only", "scale=1"], {
      cwd,
      env: { ...env, TINY_CLI_TIMEOUT_S: "2" },
    });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stderr).toContain("did not finish within 2 s and was killed");
    const [[cliPid, helperPid]] = fake.hungPids() as [[number, number]];
    for (const pid of [cliPid, helperPid]) expect(() => process.kill(pid, 0)).toThrow();
    expect(liveServices(fake)).toEqual([]);
    const dir = runFolder(cwd);
    expect(JSON.parse(readFileSync(join(dir, "setup.json"), "utf8")).anyscaleCli).toBe("0.26.81");
  });

  it("terminate ignored twice: sent again until TERMINATED, and the run succeeds", async () => {
    const { fake, cwd, env } = setup({ terminate_ignored: 2 });
    const result = await orchestrate(["run", TINY], { cwd, env: { ...env, TINY_TERMINATE_TIMEOUT_S: "30" } });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).not.toContain("LEFT RUNNING");
    for (const name of SERVICES) expect(callsFor(fake, "terminate", name)).toBe(3);
    expect(liveServices(fake)).toEqual([]);
    expect(runState(runFolder(cwd)).cells.map((c: any) => c.service)).toEqual(["terminated", "terminated"]);
  });

  it("terminate never honoured: the cell fails, the run exits 1 naming the service, and teardown ends it", async () => {
    const { fake, cwd, env } = setup({ terminate_noop: true });
    const result = await orchestrate(["run", TINY, "--only", "scale=1"], {
      cwd,
      env: { ...env, TINY_TERMINATE_TIMEOUT_S: "1" },
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("FAILED tiny-oss-x1");
    expect(result.stderr).toContain("1 service was not confirmed down: tiny-oss-x1");
    expect(result.stderr).not.toContain("0 of 1 cells failed");
    const dir = runFolder(cwd);
    expect(runState(dir).cells[0]).toMatchObject({ outcome: "failed", service: "deployed" });
    expectNoSecrets(dir, fake);
    fake.setFaults({});
    expect((await orchestrate(["teardown", dir], { cwd, env })).code).toBe(0);
    expect(liveServices(fake)).toEqual([]);
  });

  it("status failing for one service: teardown goes on with the others and exits 1 naming it", async () => {
    const { fake, cwd, env } = setup();
    expect((await orchestrate(["run", TINY, "--keep-services"], { cwd, env })).code).toBe(0);
    const dir = runFolder(cwd);
    expect(liveServices(fake)).toEqual(SERVICES);

    fake.setFaults({ status_fails: ["tiny-oss-x1"] });
    const first = await orchestrate(["teardown", dir], { cwd, env });
    expect(first.code).toBe(1);
    expect(first.stderr).toContain("1 service(s) of this run not confirmed down:");
    expect(first.stderr).toContain("tiny-oss-x1: anyscale service status -n tiny-oss-x1 --json failed");
    expect(first.stderr).toContain("Internal Server Error");
    expect(liveServices(fake)).toEqual(["tiny-oss-x1"]);
    expect(callsFor(fake, "terminate", "tiny-oss-x2")).toBeGreaterThan(0);

    fake.setFaults({});
    const second = await orchestrate(["teardown", dir], { cwd, env });
    expect(second.code).toBe(0);
    expect(second.stdout).toContain("Terminated 1 service(s) of this run.");
    expect(liveServices(fake)).toEqual([]);
  });

  it("a same-named service with a new id: teardown and resume leave it alone, saying whose it is", async () => {
    const { fake, cwd, env } = setup({ start_ms: 3_600_000 });
    // Killed while waiting for x1 to start: its service is up, its id recorded.
    const dir = await runKilledOnceIdentified(TINY, "oss-x1", { cwd, env });
    const ours = journaledState(dir).cells[0].serviceId;
    expect(ours).toMatch(/^service2_/);
    // Someone else replaced it: a new service, same name.
    const theirs = fake.someoneElseRedeploys("tiny-oss-x1");
    stopAfterTest(fake.service("tiny-oss-x1")?.pid);
    fake.setFaults({});
    const before = fake.calls().length;

    const resumed = await orchestrate(["resume", dir], { cwd, env });
    expect(resumed.stderr).toContain(
      `tiny-oss-x1: not ours: a service of this name now has id ${theirs} (this run's was ${ours}); left alone`,
    );
    expect(resumed.code).toBe(1);
    expect(resumed.stdout).toContain(
      `FAILED tiny-oss-x1: service tiny-oss-x1 now belongs to someone else (id ${theirs})`,
    );
    const teardown = await orchestrate(["teardown", dir], { cwd, env });
    expect(teardown.code).toBe(0);

    // Theirs: never deployed over, never terminated. Ours: the other cell ran and is down.
    const after = fake.calls().slice(before);
    const aboutTheirs = (c: string[]) => c.includes("tiny-oss-x1") || c.includes(theirs);
    expect(after.filter((c) => aboutTheirs(c) && ["deploy", "terminate"].includes(c[1]!))).toEqual([]);
    expect(fake.service("tiny-oss-x1")).toMatchObject({ id: theirs, terminated: false });
    expect(liveServices(fake, ["tiny-oss-x2"])).toEqual([]);
    expect(runState(dir).cells[0]).toMatchObject({ foreignId: theirs, outcome: "failed" });
  });

  it("a transient error on an accepted deploy: status shows it was accepted, so it is not sent again", async () => {
    const { fake, cwd, env } = setup({ deploy_reset_after_accept: 1 });
    const result = await orchestrate(["run", TINY, "--only", "scale=1"], { cwd, env });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stderr).toContain("the deploy was accepted; not sending it again");
    expect(callsFor(fake, "deploy", "tiny-oss-x1")).toBe(1);
    // The CLI printed the query token (in its curl hint) before the connection reset.
    expectNoSecrets(runFolder(cwd), fake);
    expect(result.stdout + result.stderr).not.toContain(fake.service("tiny-oss-x1")?.token);
    expect(liveServices(fake)).toEqual([]);
  });

  it("keeps secrets out of the run folder of a failed run and of an interrupted one", async () => {
    const failed = setup({ system_failure: true, start_ms: 0 });
    expect((await orchestrate(["run", TINY, "--only", "scale=1"], failed)).code).toBe(1);
    expectNoSecrets(runFolder(failed.cwd), failed.fake);
    expect(liveServices(failed.fake)).toEqual([]);

    const interrupted = setup();
    const run = startOrchestrate(["run", TINY], interrupted);
    const dir = await untilJournaled(interrupted.cwd, (e) => e.type === "level_done", 60_000, "a level");
    run.child.kill("SIGINT");
    expect((await run.done).code).toBe(130);
    expectNoSecrets(dir, interrupted.fake);
    expect(liveServices(interrupted.fake)).toEqual([]);
  });

  it("resume re-reads the plan file and its .env, never the redacted copy in the run folder", async () => {
    const { fake, cwd, env } = setup({ deploy_rejected: true });
    expect((await orchestrate(["run", TINY, "--only", "scale=1"], { cwd, env })).code).toBe(1);
    const dir = runFolder(cwd);
    rmSync(join(dir, "plan.json"));
    fake.setFaults({});
    // A .env beside the plan changes what the plan resolves to: that is a changed plan.
    writeFileSync(join(cwd, "test-plans", ".env"), "TINY_TERMINATE_TIMEOUT_S=7\n");
    const refused = await orchestrate(["resume", dir], { cwd, env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("test-plans/tiny.yaml has changed since this run began");
    rmSync(join(cwd, "test-plans", ".env"));
    // From another folder: the plan's recorded path is absolute.
    const resumed = await orchestrate(["resume", dir], { cwd: tmpdir(), env });
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    expect(liveServices(fake)).toEqual([]);
  });

  it("a second Ctrl-C mid-benchmark cancels the requests in flight at once; terminate is still sent", async () => {
    const { fake, cwd, env } = setup();
    // Slow decoding: each request streams for seconds, so some are in flight when Ctrl-C comes.
    const slow = { ...env, FAKE_ANYSCALE_SIM: JSON.stringify({ engine: { decode_base_ms: 400 } }) };
    const run = startOrchestrate(["run", TINY, "--only", "scale=1"], { cwd, env: slow });
    await untilJournaled(
      cwd,
      (e) => e.type === "step_started" && e.step === "bench",
      90_000,
      "the benchmark",
    );
    await until(async () => (await ongoingRequests(fake, "tiny-oss-x1")) > 0, 30_000, "requests in flight");
    run.child.kill("SIGINT");
    // Two signals sent at once may reach the process as one (the kernel keeps one pending).
    await until(async () => run.output().stderr.includes("Stopping"), 10_000, "the first Ctrl-C");
    run.child.kill("SIGINT");
    const result = await run.done;
    expect(result.code).toBe(130);
    const dir = runFolder(cwd);
    const records = filesUnder(join(dir, "cells"))
      .map((f) => readFileSync(f, "utf8"))
      .join("\n");
    expect(records).toContain("cancelled by the user");
    expect(records).not.toContain("stopped by the user");
    expect(callsFor(fake, "terminate", "tiny-oss-x1")).toBeGreaterThan(0);
    fake.setFaults({});
    expect((await orchestrate(["teardown", dir], { cwd, env })).code).toBe(0);
    expect(liveServices(fake)).toEqual([]);
  });
});

/** Requests the fake's simulator is serving right now (its ground-truth statistics). */
async function ongoingRequests(fake: FakeAnyscale, name: string): Promise<number> {
  const url = fake.serviceUrl(name);
  if (!url) return 0;
  const token = fake.service(name)?.token as string | undefined;
  const response = await fetch(`${url}/sim/stats?limit=0`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  const stats = (await response.json()) as { replicas: Array<{ ongoing: number }> };
  return stats.replicas.reduce((sum, r) => sum + r.ongoing, 0);
}

/** Polls an async condition until it holds, or fails after `timeoutMs`. */
async function until(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
