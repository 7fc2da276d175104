/**
 * The local target for real: simulator child processes, signals, process groups. Needs dist/
 * (npm test builds first).
 */
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, describe, expect, it } from "vitest";
import { ExternalError, UserError } from "../../../src/errors.js";
import { packageRoot } from "../../../src/paths.js";
import { redact } from "../../../src/secrets.js";
import { LocalTarget } from "../../../src/targets/local.js";
import {
  OSS_CONTAINERFILE,
  type ServiceConfigOptions,
  serviceConfig,
  tempDir,
  writeServiceConfig,
} from "../../helpers/service-config.js";
import { call } from "../../helpers/sim-client.js";
import { lagMargin, watchLoopLag } from "../../helpers/timing-margin.js";

const FAST_ENGINE = { engine: { decode_base_ms: 2, decode_per_seq_ms: 0.01, prefill_ms_per_token: 0.001 } };
const targets: LocalTarget[] = [];
function target(overrides: ConstructorParameters<typeof LocalTarget>[0] = {}): LocalTarget {
  const created = new LocalTarget({ simOverrides: FAST_ENGINE, pollIntervalMs: 50, ...overrides });
  targets.push(created);
  return created;
}
afterAll(async () => {
  await Promise.all(targets.map((t) => t.terminateAll()));
});

function config(options: ServiceConfigOptions = {}): { dir: string; path: string } {
  const dir = tempDir();
  return { dir, path: writeServiceConfig(dir, "service.yaml", serviceConfig(options)) };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntil(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe("local target lifecycle", () => {
  it("deploys a rendered config, serves it with a token, and terminates it", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, "images", "rayoss-251"), { recursive: true });
    writeFileSync(join(dir, "images", "rayoss-251", "Containerfile"), OSS_CONTAINERFILE);
    const path = writeServiceConfig(
      dir,
      "svc.yaml",
      serviceConfig({
        model: "gpt-oss-120b",
        replicas: 2,
        ingressReplicas: 3,
        containerfile: "images/rayoss-251/Containerfile",
        engineKwargs: { max_num_seqs: 64 },
      }),
    );
    const local = target({ cwd: dir });
    expect(await local.status("svc-x2")).toBeUndefined();

    await local.deploy({ serviceName: "svc-x2", configPath: path, tags: { run: "r1" } });
    const starting = await local.status("svc-x2");
    expect(starting).toMatchObject({ name: "svc-x2", id: expect.stringMatching(/^service2_local_/) });
    expect(["STARTING", "RUNNING"]).toContain(starting!.state);
    expect(starting!.queryUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // The token is a registered secret: it never shows in anything we print.
    expect(redact(`token ${starting!.queryAuthToken}`)).toBe("token «redacted»");

    const endpoint = await local.waitReady("svc-x2", Date.now() + 10_000);
    expect(endpoint).toEqual({ name: "svc-x2", url: starting!.queryUrl, token: starting!.queryAuthToken });
    expect((await local.status("svc-x2"))!.state).toBe("RUNNING");

    const completion = await call(endpoint.url, "/v1/completions", {
      token: endpoint.token,
      body: { model: "gpt-oss-120b", prompt: [1, 2, 3], max_tokens: 4, ignore_eos: true },
    });
    expect(completion.status).toBe(200);
    expect(completion.json.usage.completion_tokens).toBe(4);
    expect((await call(endpoint.url, "/v1/models")).status).toBe(401);

    const stats = await call(endpoint.url, "/sim/stats", { token: endpoint.token });
    expect(stats.json).toMatchObject({
      model: "gpt-oss-120b",
      profile: "oss",
      config: {
        replicas: 2,
        ingress_replicas: 3,
        engine: {
          max_num_seqs: 64,
          stream_batching_interval_ms: 0,
          enable_prefix_caching: false,
          decode_base_ms: 2,
        },
        ingress: { request_overhead_ms: 3, chunk_cost_ms: 0.3 },
      },
    });

    const pid = local.pidOf("svc-x2")!;
    expect(alive(pid)).toBe(true);
    await local.terminate("svc-x2", Date.now() + 5_000);
    expect(await local.status("svc-x2")).toEqual({
      name: "svc-x2",
      state: "TERMINATED",
      id: starting!.id,
      queryAuthToken: starting!.queryAuthToken,
    });
    expect(alive(pid)).toBe(false);
    await expect(call(endpoint.url, "/-/healthz")).rejects.toThrow();
    await local.terminate("svc-x2", Date.now() + 5_000); // idempotent
  });

  it("treats a repeated deploy of the same config as a no-op, and a changed one as a replacement", async () => {
    const { path, dir } = config();
    const local = target({ cwd: dir });
    await local.deploy({ serviceName: "same", configPath: path, tags: {} });
    const first = await local.status("same");
    await local.deploy({ serviceName: "same", configPath: path, tags: {} });
    expect((await local.status("same"))!.id).toBe(first!.id);
    const firstPid = local.pidOf("same")!;

    expect(local.pidOf("same")).toBe(firstPid);

    writeServiceConfig(dir, "service.yaml", serviceConfig({ replicas: 2 }));
    await local.deploy({ serviceName: "same", configPath: path, tags: {} });
    expect((await local.status("same"))!.id).toBe(first!.id); // same service, new version
    expect(local.pidOf("same")).not.toBe(firstPid);
    expect(alive(firstPid)).toBe(false);
    const endpoint = await local.waitReady("same", Date.now() + 10_000);
    const stats = await call(endpoint.url, "/sim/stats", { token: endpoint.token });
    expect(stats.json.config.replicas).toBe(2);
  });

  it("runs without a token when query auth is off", async () => {
    const { path, dir } = config({ auth: false });
    const local = target({ cwd: dir });
    await local.deploy({ serviceName: "open", configPath: path, tags: {} });
    const endpoint = await local.waitReady("open", Date.now() + 10_000);
    expect(endpoint.token).toBeUndefined();
    expect((await local.status("open"))!.queryAuthToken).toBeUndefined();
    expect((await call(endpoint.url, "/v1/models")).status).toBe(200);
  });

  it("stays STARTING through a slow start-up, then becomes RUNNING", async () => {
    const { path, dir } = config();
    const local = target({ cwd: dir, simOverrides: { ...FAST_ENGINE, faults: { startup_delay_ms: 800 } } });
    const started = Date.now();
    await local.deploy({ serviceName: "slow", configPath: path, tags: {} });
    expect((await local.status("slow"))!.state).toBe("STARTING");
    await local.waitReady("slow", Date.now() + 10_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(800);
  });

  it("ends waitReady with a clear ExternalError at the deadline when the service never becomes healthy", async () => {
    const { path, dir } = config();
    const local = target({
      cwd: dir,
      env: { ORCHESTRATE_SIM_CONFIG: JSON.stringify({ faults: { never_healthy: true } }) },
    });
    await local.deploy({ serviceName: "sick", configPath: path, tags: {} });
    const lag = watchLoopLag();
    const started = Date.now();
    const error = await local.waitReady("sick", Date.now() + 700).catch((e: unknown) => e);
    lag.stop();
    expect(error).toBeInstanceOf(ExternalError);
    expect((error as ExternalError).kind).toBe("timeout");
    expect((error as ExternalError).message).toMatch(
      /did not become healthy before the deadline.*503.*never/,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(650);
    // Its last sleep ends at the deadline, late by no more than this process's loop lagged (and
    // two readings of a millisecond clock): not a poll interval later.
    expect(Date.now() - started).toBeLessThanOrEqual(700 + lagMargin(lag.maxMs()) + 2);
    expect((await local.status("sick"))!.state).toBe("STARTING");
  });

  it("reports a simulator that dies on its own as SYSTEM_FAILURE, and fails waitReady fast", async () => {
    const { path, dir } = config();
    const local = target({ cwd: dir });
    await local.deploy({ serviceName: "crash", configPath: path, tags: {} });
    await local.waitReady("crash", Date.now() + 10_000);
    process.kill(local.pidOf("crash")!, "SIGKILL");
    await waitUntil(() => local.pidOf("crash") === undefined, 5_000, "the child to exit");
    expect((await local.status("crash"))!.state).toBe("SYSTEM_FAILURE");
    const error = await local.waitReady("crash", Date.now() + 10_000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExternalError);
    expect((error as ExternalError).kind).toBe("service_failed");
    expect((error as ExternalError).message).toMatch(/SIGKILL/);
  });

  it("refuses a config it cannot simulate before starting anything", async () => {
    const { path, dir } = config({ containerfile: "missing/Containerfile" });
    const local = target({ cwd: dir });
    await expect(local.deploy({ serviceName: "bad", configPath: path, tags: {} })).rejects.toBeInstanceOf(
      UserError,
    );
    expect(await local.status("bad")).toBeUndefined();
    const overrides = target({ cwd: dir, simOverrides: { engine: { max_num_seqs: -1 } } });
    const good = config();
    await expect(
      overrides.deploy({ serviceName: "bad2", configPath: good.path, tags: {} }),
    ).rejects.toMatchObject({
      name: "UserError",
      details: [expect.stringContaining("engine.max_num_seqs")],
    });
  });

  it("waitReady of an unknown name is a not_found ExternalError", async () => {
    const error = await target()
      .waitReady("nobody", Date.now() + 1_000)
      .catch((e: unknown) => e);
    expect((error as ExternalError).kind).toBe("not_found");
  });
});

describe("no simulator outlives the orchestrator", () => {
  async function startParent(
    mode: "wait" | "exit",
  ): Promise<{ parent: ReturnType<typeof spawn>; simPid: number }> {
    const { path } = config();
    const parent = spawn(
      process.execPath,
      [join(packageRoot, "test/fixtures/local-target/parent.mjs"), path, mode],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: parent.stdout! }).once("line", resolve);
      parent.once("exit", (code) => reject(new Error(`parent exited early (${code})`)));
    });
    return { parent, simPid: (JSON.parse(line) as { pid: number }).pid };
  }

  it("kills the simulator when the parent is SIGKILLed", async () => {
    const { parent, simPid } = await startParent("wait");
    expect(alive(simPid)).toBe(true);
    parent.kill("SIGKILL");
    await waitUntil(() => !alive(simPid), 5_000, `simulator ${simPid} to exit after its parent died`);
  });

  it("kills the simulator when the parent exits without terminating it", async () => {
    const { simPid } = await startParent("exit");
    await waitUntil(() => !alive(simPid), 5_000, `simulator ${simPid} to exit with its parent`);
  });
});
