import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../src/clock.js";
import { ExternalError, UserError } from "../../src/errors.js";
import { AnyscaleTarget } from "../../src/targets/anyscale.js";
import { type CliRunner, execaRunner, runCli } from "../../src/targets/anyscale-cli.js";
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
  options: {
    unhealthyGraceMs?: number;
    cliTimeoutMs?: number;
    buildTimeoutMs?: number;
    project?: string;
  } = {},
) {
  const fake = createFakeAnyscale(faults);
  const cwd = mkdtempSync(join(tmpdir(), "anyscale-cwd-"));
  mkdirSync(join(cwd, "configs"));
  mkdirSync(join(cwd, "images/img"), { recursive: true });
  writeFileSync(
    join(cwd, "configs/svc-x1.yaml"),
    options.project ? `project: ${options.project}\n${CONFIG}` : CONFIG,
  );
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
    ...(options.buildTimeoutMs ? { buildTimeoutMs: options.buildTimeoutMs } : {}),
    ...(options.project ? { scope: { project: options.project } } : {}),
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
    expect(error.hint).toMatch(
      /anyscale service terminate --service-id service2_\w+, then check with anyscale service status -n svc-x1 --json/,
    );
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

describe("the anyscale target against the real CLI's awkward parts", () => {
  it("looks the name up in the plan's project and terminates by id, never touching another project's", async () => {
    const { target, fake } = setup({ start_ms: 0 }, { project: "research" });
    const theirs = fake.serviceInOtherProject("svc-x1", "other");
    await deploy(target);
    const ours = await target.status("svc-x1");
    expect(ours?.id).not.toBe(theirs);
    expect(ours?.id).toBe(fake.service("svc-x1", "research")?.id);
    await target.terminate("svc-x1", Date.now() + 10_000, undefined, { owner: { id: ours?.id as string } });
    expect(fake.service("svc-x1", "research")?.terminated).toBe(true);
    expect(fake.service("svc-x1", "other")?.terminated).toBe(false);
    const calls = fake.calls().filter((c) => c[1] !== "deploy");
    expect(calls.every((c) => c[1] !== "status" || c.join(" ").includes("--project research"))).toBe(true);
    expect(calls.filter((c) => c[1] === "terminate")).toEqual([
      ["service", "terminate", "--service-id", ours?.id],
    ]);
  });

  it("leaves alone our service id deployed again by someone else (same id, new version)", async () => {
    const { target, fake } = setup({ start_ms: 0 });
    await deploy(target);
    const ours = (await target.status("svc-x1")) as { id: string; versionId: string };
    await target.terminate("svc-x1", Date.now() + 10_000, undefined, { owner: ours });
    const theirVersion = fake.someoneRestarts("svc-x1");
    const error = await target
      .terminate("svc-x1", Date.now() + 5_000, undefined, {
        owner: { id: ours.id, versionId: ours.versionId },
      })
      .catch((e) => e);
    expect(error).toBeInstanceOf(NotOurService);
    expect(error.message).toBe(
      `service svc-x1 is not ours: it was deployed again after ours (version ${theirVersion}, this run's was ${ours.versionId}); left alone`,
    );
    expect(countCalls(fake, "service terminate")).toBe(1);
    expect(fake.service("svc-x1")?.terminated).toBe(false);
  });

  it("gives a containerfile deploy the build's time limit, not cli_timeout, and sends it once", async () => {
    const { target, fake } = setup(
      { build_ms: 2_500, start_ms: 60_000 },
      { cliTimeoutMs: 1_000, buildTimeoutMs: 15_000 },
    );
    await target.deploy({
      serviceName: "svc-x1",
      configPath: "configs/svc-x1.yaml",
      tags: {},
      buildsImage: true,
    });
    expect(countCalls(fake, "service deploy")).toBe(1);
    expect(fake.builds()).toHaveLength(1);
    expect(fake.service("svc-x1")?.version).toBe(1);
  });

  it("never sends a containerfile deploy again while its build may run: cut off, it fails saying so", async () => {
    const { target, fake } = setup({ build_ms: 8_000 }, { cliTimeoutMs: 500, buildTimeoutMs: 1_000 });
    const error = await target
      .deploy({ serviceName: "svc-x1", configPath: "configs/svc-x1.yaml", tags: {}, buildsImage: true })
      .catch((e) => e);
    expect(error).toBeInstanceOf(ExternalError);
    expect(error.kind).toBe("timeout");
    expect(error.message).toContain(
      "the deploy of svc-x1, which builds its image first, did not finish within 1.0 s; its build may still be running on Anyscale, so the deploy is not sent again",
    );
    expect(error.hint).toContain("deploy.ready_timeout_s");
    expect(countCalls(fake, "service deploy")).toBe(1);
    expect(fake.builds()).toHaveLength(1);
  });

  it("understands the newer CLI's exit codes and JSON errors: 2 is retried, 1 'not found' is absent", async () => {
    const { target, fake } = setup({ exit_codes: "new", transient: { "service status": 1 } });
    expect(await target.status("svc-x1")).toBeUndefined();
    expect(countCalls(fake, "service status")).toBe(2);
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
      .terminate("svc-x1", Date.now() + 5_000, undefined, { owner: { id: ours } })
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
    expect(error).toBeInstanceOf(UserError); // an environment problem: exit 2
    expect(error.hint).toContain("anyscale login");
    mkdirSync(join(home, ".anyscale"));
    writeFileSync(join(home, ".anyscale", "credentials.json"), "{}");
    expect(await anyscalePreflight(noToken, execaRunner("anyscale", noToken))).toEqual({
      cliVersion: "0.26.81",
      credentials: join(home, ".anyscale", "credentials.json"),
    });
  });
});

describe("the CLI version floor", () => {
  it("refuses anyscale 0.24.64, naming it and the floor, unless told to accept it", async () => {
    const fake = createFakeAnyscale({ version: "0.24.64" });
    const runner = execaRunner("anyscale", fake.env);
    const error = await anyscalePreflight(fake.env, runner).catch((e) => e);
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toBe(
      "the Anyscale CLI is version 0.24.64; orchestrate needs 0.26.0 or newer (tags on services, `image build -r`, and `service status --cloud/--project` arrived in 0.26)",
    );
    expect(error.hint).toContain("pip install -U 'anyscale>=0.26.0'");
    expect(error.hint).toContain("--allow-cli-version");
    const allowed = await anyscalePreflight(fake.env, runner, { allowCliVersion: true });
    expect(allowed.cliVersion).toBe("0.24.64");
  });

  it("reads the long form and ignores the newer-release warning on stderr", async () => {
    const old = createFakeAnyscale({ version: "0.24.64", version_banner: true, version_warning: true });
    const error = await anyscalePreflight(old.env, execaRunner("anyscale", old.env)).catch((e) => e);
    expect(error.message).toContain("the Anyscale CLI is version 0.24.64");
    const current = createFakeAnyscale({ version_banner: true, version_warning: true });
    const report = await anyscalePreflight(current.env, execaRunner("anyscale", current.env));
    expect(report.cliVersion).toBe("anyscale, version 0.26.81");
  });

  it("refuses a version it cannot read, unless told to accept it", async () => {
    const runner: CliRunner = {
      run: async () => ({ stdout: "anyscale dev build\n", stderr: "", exitCode: 0 }),
    };
    const env = { ANYSCALE_CLI_TOKEN: "x" };
    const error = await anyscalePreflight(env, runner).catch((e) => e);
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toBe(
      "could not read a version in what `anyscale --version` printed: anyscale dev build",
    );
    expect((await anyscalePreflight(env, runner, { allowCliVersion: true })).cliVersion).toBe(
      "anyscale dev build",
    );
  });

  it("accepts the version the contract was read from, and a newer one", async () => {
    for (const version of ["0.26.81", "0.27.3", "1.0.0"]) {
      const fake = createFakeAnyscale({ version });
      const report = await anyscalePreflight(fake.env, execaRunner("anyscale", fake.env));
      expect(report.cliVersion).toBe(version);
    }
  });
});
