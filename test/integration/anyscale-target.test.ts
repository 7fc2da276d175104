import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../src/clock.js";
import { ExternalError } from "../../src/errors.js";
import { AnyscaleTarget } from "../../src/targets/anyscale.js";
import {
  type CliRunner,
  classifyFailure,
  execaRunner,
  runCli,
  saysServiceAbsent,
} from "../../src/targets/anyscale-cli.js";
import { anyscalePreflight } from "../../src/targets/anyscale-preflight.js";
import { NotOurService } from "../../src/targets/target.js";
import { createFakeAnyscale, type FakeAnyscale } from "../helpers/fake-anyscale.js";

const CONFIG = `name: svc-x1
containerfile: images/img/Containerfile
applications:
  - name: app
    import_path: ray.serve.llm:build_openai_app
    args: { llm_configs: [] }
`;

function setup(
  faults: Record<string, unknown> = {},
  options: { unhealthyGraceMs?: number; cliTimeoutMs?: number } = {},
) {
  const fake = createFakeAnyscale(faults);
  const cwd = mkdtempSync(join(tmpdir(), "anyscale-cwd-"));
  mkdirSync(join(cwd, "configs"));
  mkdirSync(join(cwd, "images/img"), { recursive: true });
  writeFileSync(join(cwd, "configs/svc-x1.yaml"), CONFIG);
  writeFileSync(join(cwd, "images/img/Containerfile"), "FROM base\n");
  const retries: string[] = [];
  const target = new AnyscaleTarget({
    runner: execaRunner("anyscale", fake.env),
    cwd,
    pollIntervalMs: 50,
    unhealthyGraceMs: options.unhealthyGraceMs ?? 300,
    retry: { retries: 3, minTimeoutMs: 10, maxTimeoutMs: 20 },
    terminateResendPolls: 2,
    ...(options.cliTimeoutMs ? { cliTimeoutMs: options.cliTimeoutMs } : {}),
    onRetry: (m) => retries.push(m),
  });
  return { fake, cwd, target, retries };
}

const deploy = (target: AnyscaleTarget) =>
  target.deploy({
    serviceName: "svc-x1",
    configPath: "configs/svc-x1.yaml",
    tags: { "orchestrate-run": "r1" },
  });

function countCalls(fake: FakeAnyscale, prefix: string): number {
  return fake.calls().filter((argv) => argv.slice(0, 2).join(" ") === prefix).length;
}

describe("the anyscale target against the CLI contract", () => {
  it("deploys with the exact arguments and returns before the service is up", async () => {
    const { fake, target } = setup({ start_ms: 60_000 });
    await deploy(target);
    expect(fake.calls()).toEqual([
      ["service", "deploy", "-f", "configs/svc-x1.yaml", "-n", "svc-x1", "--tag", "orchestrate-run=r1"],
    ]);
    const status = await target.status("svc-x1");
    // Keys whose value is null are absent: no query_url while it starts.
    expect(status).toMatchObject({ name: "svc-x1", state: "STARTING" });
    expect(status?.queryUrl).toBeUndefined();
  });

  it("reports an unknown service as absent rather than failing", async () => {
    const { target } = setup();
    expect(await target.status("nope")).toBeUndefined();
  });

  it("fails fast on SYSTEM_FAILURE instead of waiting out the deadline", async () => {
    const { target } = setup({ system_failure: true, start_ms: 0 });
    await deploy(target);
    const started = Date.now();
    const error = await target.waitReady("svc-x1", Date.now() + 60_000).catch((e) => e);
    expect(error).toBeInstanceOf(ExternalError);
    expect(error.message).toBe("service svc-x1 entered SYSTEM_FAILURE (an error on Anyscale's side)");
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("tolerates UNHEALTHY for the grace period, then fails", async () => {
    const { target, fake } = setup({ unhealthy: true, start_ms: 0 }, { unhealthyGraceMs: 400 });
    await deploy(target);
    const error = await target.waitReady("svc-x1", Date.now() + 60_000).catch((e) => e);
    expect(error.message).toBe("service svc-x1 stayed UNHEALTHY for more than 0.4 s");
    // It polled through the grace period rather than failing on the first UNHEALTHY.
    expect(countCalls(fake, "service status")).toBeGreaterThanOrEqual(2);
  });

  it("keeps polling an unknown state and fails at the deadline, naming the last state", async () => {
    const { target } = setup({ unknown_state: "PENDING_SOMETHING_NEW" });
    await deploy(target);
    const error = await target.waitReady("svc-x1", Date.now() + 500).catch((e) => e);
    expect(error.kind).toBe("timeout");
    expect(error.message).toBe("service svc-x1 was not RUNNING by its deadline (last state UNKNOWN)");
  });

  it("retries transient API errors with backoff and succeeds", async () => {
    const { target, fake, retries } = setup({ transient: { "service status": 2 } });
    await deploy(target);
    expect(await target.status("svc-x1")).toMatchObject({ state: "STARTING" });
    expect(countCalls(fake, "service status")).toBe(3);
    expect(retries).toHaveLength(2);
    expect(retries[0]).toContain("retrying anyscale service status (attempt 2)");
  });

  it("gives up on transient errors after bounded attempts, keeping the last cause", async () => {
    const { target, fake } = setup({ transient: { "service deploy": 10 } });
    const error = await deploy(target).catch((e) => e);
    expect(error.kind).toBe("transient");
    expect(error.message).toContain("(after 4 attempts)");
    expect(error.message).toContain("503 Service Unavailable");
    expect(countCalls(fake, "service deploy")).toBe(4);
  });

  it("fails at once on an auth error, saying what to do", async () => {
    const { target, fake } = setup({ auth: true });
    const error = await deploy(target).catch((e) => e);
    expect(error).toBeInstanceOf(ExternalError);
    expect(error.kind).toBe("auth");
    expect(error.hint).toContain("ANYSCALE_CLI_TOKEN");
    expect(fake.calls()).toHaveLength(1);
  });

  it("fails at once when the config is rejected at deploy", async () => {
    const { target, fake } = setup({ deploy_rejected: true });
    const error = await deploy(target).catch((e) => e);
    expect(error.kind).toBe("validation");
    expect(error.message).toContain("Invalid service config");
    expect(fake.calls()).toHaveLength(1);
  });

  it("confirms termination by status, and catches a terminate that exits 0 but does nothing", async () => {
    const { target } = setup({ terminate_noop: true, start_ms: 0 });
    await deploy(target);
    const error = await target.terminate("svc-x1", Date.now() + 400).catch((e) => e);
    expect(error.kind).toBe("timeout");
    expect(error.message).toMatch(
      /^service svc-x1 is still \w+ after \d+ terminate requests?; it is still costing money$/,
    );
    expect(error.hint).toContain("anyscale service terminate -n svc-x1");
  });

  it("terminates and sees TERMINATED", async () => {
    const { target, fake } = setup();
    await deploy(target);
    await target.terminate("svc-x1", Date.now() + 10_000);
    expect((await target.status("svc-x1"))?.state).toBe("TERMINATED");
    expect(fake.calls().map((c) => c.slice(0, 2).join(" "))).toContain("service terminate");
  });

  it("builds an image and reads its URI from stdout only", async () => {
    const { target } = setup();
    const image = { name: "img", ray_version: "2.51.0" };
    expect(await target.buildImage(image, "images/img/Containerfile")).toBe("anyscale/image/img:1");
    expect(await target.buildImage(image, "images/img/Containerfile")).toBe("anyscale/image/img:2");
  });

  it("says so when the anyscale CLI is not installed", async () => {
    const runner = execaRunner("anyscale-not-installed-here");
    const error = await runner.run(["service", "list"], {}).catch((e) => e);
    expect(error.message).toBe("the `anyscale-not-installed-here` command was not found on PATH");
    expect(error.hint).toContain("--target local");
    expect(error.hint).toContain("pip install anyscale");
  });
});

describe("the anyscale target when the CLI misbehaves", () => {
  it("sends terminate again while the service is not TERMINATED, until it is", async () => {
    const { target, fake } = setup({ terminate_ignored: 2, start_ms: 0 });
    await deploy(target);
    await target.terminate("svc-x1", Date.now() + 20_000);
    expect(countCalls(fake, "service terminate")).toBe(3);
    expect(fake.service("svc-x1")?.terminated).toBe(true);
  });

  it("kills a hung call with its process group, and retries it", async () => {
    const { target, fake, retries } = setup({ hang: { "service status": 1 } }, { cliTimeoutMs: 1_000 });
    await deploy(target);
    const started = Date.now();
    expect(await target.status("svc-x1")).toMatchObject({ name: "svc-x1" });
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(retries[0]).toContain("did not finish within 1 s and was killed");
    const [[cliPid, childPid]] = fake.hungPids() as [[number, number]];
    const gone = (pid: number) => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    };
    // The CLI and the helper it started are both gone (SIGTERM to the group, SIGKILL after).
    const deadline = Date.now() + 5_000;
    while (!(gone(cliPid) && gone(childPid)) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect([gone(cliPid), gone(childPid)]).toEqual([true, true]);
  });

  it("checks status before sending a deploy again: an accepted deploy is not repeated", async () => {
    const { target, fake, retries } = setup({ deploy_reset_after_accept: 1, start_ms: 60_000 });
    await deploy(target);
    expect(countCalls(fake, "service deploy")).toBe(1);
    expect(fake.service("svc-x1")?.version).toBe(1);
    expect(retries.join("\n")).toContain("the deploy was accepted; not sending it again");
  });

  it("treats a missing project as an error, never as a service that is gone", async () => {
    const { target, fake } = setup({ project_missing: "research" });
    const status = await target.status("svc-x1").catch((e) => e);
    expect(status).toBeInstanceOf(ExternalError);
    expect(status.kind).toBe("validation");
    expect(status.message).toContain("Project 'research' not found");
    const terminate = await target.terminate("svc-x1", Date.now() + 5_000).catch((e) => e);
    expect(terminate).toBeInstanceOf(ExternalError);
    expect(countCalls(fake, "service status")).toBe(2); // no retries for it
  });

  it("leaves a service of our name with another id alone", async () => {
    const { target, fake } = setup({ start_ms: 0 });
    await deploy(target);
    const ours = (await target.status("svc-x1"))?.id as string;
    const theirs = fake.someoneElseRedeploys("svc-x1");
    const error = await target
      .terminate("svc-x1", Date.now() + 5_000, undefined, { expectedId: ours })
      .catch((e) => e);
    expect(error).toBeInstanceOf(NotOurService);
    expect(error.message).toBe(
      `service svc-x1 is not ours: it has id ${theirs}, this run's was ${ours}; left alone`,
    );
    expect(countCalls(fake, "service terminate")).toBe(0);
    process.kill(-fake.service("svc-x1")?.pid, "SIGTERM");
  });

  it("reads the image URI from stderr when stdout has none", async () => {
    const runner: CliRunner = {
      run: async () => ({
        stdout: "",
        stderr: "Build succeeded.\nImage: anyscale/image/img:7\n",
        exitCode: 0,
      }),
    };
    const target = new AnyscaleTarget({ runner, cwd: ".", pollIntervalMs: 10, unhealthyGraceMs: 10 });
    expect(await target.buildImage({ name: "img", ray_version: "2.51.0" }, "Containerfile")).toBe(
      "anyscale/image/img:7",
    );
  });

  it("waits for readiness on its clock: a virtual one reaches the deadline in no real time", async () => {
    const clock = new VirtualClock(1_700_000_000_000);
    let polls = 0;
    const runner: CliRunner = {
      run: async () => {
        polls += 1;
        return {
          stdout: JSON.stringify({ name: "svc-x1", id: "s1", state: "STARTING" }),
          stderr: "",
          exitCode: 0,
        };
      },
    };
    const target = new AnyscaleTarget({
      runner,
      cwd: ".",
      pollIntervalMs: 30_000,
      unhealthyGraceMs: 60_000,
      clock,
    });
    const deadline = clock.now() + 10 * 60_000;
    const started = performance.now();
    const waiting = target.waitReady("svc-x1", deadline).catch((e: unknown) => e);
    let outcome: unknown;
    void waiting.then((e) => {
      outcome = e;
    });
    while (outcome === undefined) {
      await new Promise((r) => setImmediate(r));
      clock.runUntilIdle(clock.now() + 30_000);
    }
    expect(outcome).toMatchObject({
      kind: "timeout",
      message: expect.stringMatching(/not RUNNING by its deadline/),
    });
    expect(clock.now()).toBe(deadline);
    expect(polls).toBe(21); // one look every 30 s over 10 minutes, and one at the deadline
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it("never retries a missing CLI", async () => {
    const started = Date.now();
    const error = await runCli(execaRunner("anyscale-not-installed-here"), ["service", "list"], {
      retry: { retries: 4, minTimeoutMs: 2_000, maxTimeoutMs: 30_000 },
    }).catch((e) => e);
    expect(error.kind).toBe("not_installed");
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

describe("preflight", () => {
  it("names pip install anyscale and anyscale login when the CLI is missing", async () => {
    const error = await anyscalePreflight(
      { ANYSCALE_CLI_TOKEN: "x" },
      execaRunner("anyscale-not-installed-here"),
    ).catch((e) => e);
    expect(error.message).toBe("the `anyscale-not-installed-here` command was not found on PATH");
    expect(error.hint).toContain("pip install anyscale");
    expect(error.hint).toContain("anyscale login");
  });

  it("wants credentials, and reports the CLI's version when all is there", async () => {
    const fake = createFakeAnyscale();
    const home = mkdtempSync(join(tmpdir(), "home-"));
    const noToken = { ...fake.env, HOME: home, ANYSCALE_CLI_TOKEN: "" };
    const error = await anyscalePreflight(noToken, execaRunner("anyscale", noToken)).catch((e) => e);
    expect(error.kind).toBe("auth");
    expect(error.hint).toContain("anyscale login");
    mkdirSync(join(home, ".anyscale"));
    writeFileSync(join(home, ".anyscale", "credentials.json"), "{}");
    expect(await anyscalePreflight(noToken, execaRunner("anyscale", noToken))).toEqual({
      cliVersion: "anyscale, version 0.26.99 (fake)",
      credentials: join(home, ".anyscale", "credentials.json"),
    });
  });
});

describe("sorting CLI failures", () => {
  const result = (stderr: string, exitCode = 1) => ({ stdout: "", stderr, exitCode });
  it("holds on real-world messages not written for it", () => {
    const k = (stderr: string) => classifyFailure(result(stderr));
    expect(k("500")).toBe("transient");
    expect(k('{"detail":"Internal Server Error"}')).toBe("transient");
    expect(k("HTTP 502 Bad Gateway")).toBe("transient");
    expect(k("<html><head><title>504 Gateway Time-out</title></head></html>")).toBe("transient");
    expect(k("HTTP 503 Service Unavailable")).toBe("transient");
    expect(k("[Errno 104] Connection reset by peer")).toBe("transient");
    expect(k("urllib3.exceptions.ReadTimeoutError: Read timed out. (read timeout=30)")).toBe("transient");
    expect(k("Project 'research' not found")).toBe("validation");
    expect(k("Error: Cloud 'cld_abc' does not exist.")).toBe("validation");
    expect(classifyFailure({ stdout: "", stderr: "", exitCode: 124, timedOut: true })).toBe("transient");
  });

  it("takes a 'not found' as the service being absent only when it names the service", () => {
    expect(saysServiceAbsent(result("Error: Service with name 'svc-x1' was not found."), "svc-x1")).toBe(
      true,
    );
    expect(saysServiceAbsent(result("Error: Service with name 'svc-x10' was not found."), "svc-x1")).toBe(
      false,
    );
    expect(saysServiceAbsent(result("Error: 404 Not Found"), "svc-x1")).toBe(false);
    expect(saysServiceAbsent(result("Project 'svc-x1-team' not found"), "svc-x1")).toBe(false);
  });

  const kind = (stderr: string, exitCode = 1) => classifyFailure({ stdout: "", stderr, exitCode });
  it("recognises each kind by its message", () => {
    expect(kind("Error: Unauthorized: token expired")).toBe("auth");
    expect(kind("Error: Service with name 'x' was not found.")).toBe("not_found");
    expect(kind("requests.exceptions.ConnectionError: Connection reset by peer")).toBe("transient");
    expect(kind("Error: (429) Too Many Requests")).toBe("transient");
    expect(kind("Error: extra fields not permitted")).toBe("validation");
    expect(kind("Usage: anyscale service deploy\nError: No such option: --bogus", 2)).toBe("validation");
    expect(kind("Something odd happened")).toBe("unknown");
  });
});
