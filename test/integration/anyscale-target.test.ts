import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ExternalError } from "../../src/errors.js";
import { AnyscaleTarget } from "../../src/targets/anyscale.js";
import { classifyFailure, execaRunner } from "../../src/targets/anyscale-cli.js";
import { createFakeAnyscale, type FakeAnyscale } from "../helpers/fake-anyscale.js";

const CONFIG = `name: svc-x1
containerfile: images/img/Containerfile
applications:
  - name: app
    import_path: ray.serve.llm:build_openai_app
    args: { llm_configs: [] }
`;

function setup(faults: Record<string, unknown> = {}, options: { unhealthyGraceMs?: number } = {}) {
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
      /^service svc-x1 is still \w+ after terminate was accepted; it is still costing money$/,
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
  });
});

describe("sorting CLI failures", () => {
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
