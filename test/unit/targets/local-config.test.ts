import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { UserError } from "../../../src/errors.js";
import { runtimeProfile, SEED_IMAGE_ENV } from "../../../src/sim/runtime-profile.js";
import { imageName, parseContainerfileEnv, readLocalServiceSpec } from "../../../src/targets/local-config.js";
import {
  OSS_CONTAINERFILE,
  serviceConfig,
  TURBO_CONTAINERFILE,
  tempDir,
  writeServiceConfig,
} from "../../helpers/service-config.js";

async function userError(promise: Promise<unknown>): Promise<UserError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UserError);
  return error as UserError;
}

describe("Containerfile ENV lines", () => {
  it("reads both forms, quotes and continuations; later lines win", () => {
    const env = parseContainerfileEnv(
      [
        "FROM x",
        "ENV A=1 B=\"two words\" C='single'",
        "env LEGACY value with spaces",
        "ENV D=4 \\",
        "    E=5",
        "RUN echo ENV F=6",
        "ENV A=override",
      ].join("\n"),
    );
    expect(env).toEqual({
      A: "override",
      B: "two words",
      C: "single",
      LEGACY: "value with spaces",
      D: "4",
      E: "5",
    });
  });

  it("reads the seed images", () => {
    expect(parseContainerfileEnv(OSS_CONTAINERFILE)).toEqual(SEED_IMAGE_ENV.oss);
    expect(parseContainerfileEnv(TURBO_CONTAINERFILE)).toEqual(SEED_IMAGE_ENV.turbo);
  });

  it("names images from their URI", () => {
    expect(imageName("anyscale/image/rayoss-251:3")).toBe("rayoss-251");
    expect(imageName("docker.io/anyscale/ray-llm:2.51.0-py311-cu128")).toBe("ray-llm");
  });
});

describe("runtime profile", () => {
  it("gives the seed's OSS image two Python hops, trimmed by the throughput switch", () => {
    expect(runtimeProfile(SEED_IMAGE_ENV.oss)).toMatchObject({
      name: "oss",
      ingress: { request_overhead_ms: 3, chunk_cost_ms: 0.3 },
    });
  });

  it("gives the seed's Turbo image direct ingress: less work per request and per chunk", () => {
    expect(runtimeProfile(SEED_IMAGE_ENV.turbo)).toMatchObject({
      name: "turbo-haproxy",
      ingress: { request_overhead_ms: 1.2, chunk_cost_ms: 0.15 },
    });
  });

  it("ignores HAProxy on open-source Ray and says so", () => {
    const profile = runtimeProfile({
      ANYSCALE_DISABLE_OPTIMIZED_RAY: "1",
      ANYSCALE_RAY_SERVE_ENABLE_HA_PROXY: "1",
    });
    expect(profile.name).toBe("oss");
    expect(profile.ingress).toEqual({ request_overhead_ms: 4, chunk_cost_ms: 0.4 });
    expect(profile.notes.join("\n")).toMatch(/ignored/);
  });

  it("treats an image without switches as RayTurbo without HAProxy", () => {
    expect(runtimeProfile({})).toMatchObject({
      name: "turbo",
      ingress: { request_overhead_ms: 4, chunk_cost_ms: 0.4 },
    });
    expect(runtimeProfile({ ANYSCALE_RAY_SERVE_ENABLE_HA_PROXY: "0" }).name).toBe("turbo");
  });
});

describe("reading a service config for the local target", () => {
  it("maps replicas, ingress, model, engine arguments, batching and the image's runtime", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, "images", "rayturbo-251"), { recursive: true });
    writeFileSync(join(dir, "images", "rayturbo-251", "Containerfile"), TURBO_CONTAINERFILE);
    const path = writeServiceConfig(
      dir,
      "svc.yaml",
      serviceConfig({
        model: "gpt-oss-120b",
        replicas: 4,
        ingressReplicas: 8,
        containerfile: "images/rayturbo-251/Containerfile",
        engineKwargs: { max_num_seqs: 128, max_num_batched_tokens: 4096, max_model_len: 8192 },
        streamBatchingMs: 0,
      }),
    );
    const spec = await readLocalServiceSpec(path, dir);
    expect(spec.sim).toMatchObject({
      model: "gpt-oss-120b",
      replicas: 4,
      ingress_replicas: 8,
      profile: "turbo-haproxy",
      ingress: { request_overhead_ms: 1.2, chunk_cost_ms: 0.15 },
      engine: {
        max_num_seqs: 128,
        max_num_batched_tokens: 4096,
        max_model_len: 8192,
        enable_prefix_caching: false,
        stream_batching_interval_ms: 0,
      },
    });
    expect(spec.authEnabled).toBe(true);
    expect(spec.image.source).toBe(join(dir, "images", "rayturbo-251", "Containerfile"));
  });

  it("defaults the ingress to 2 × LLM replicas (Ray before 2.51), batching to 50 ms, prefix caching on", async () => {
    const dir = tempDir();
    const config = serviceConfig({ replicas: 3 });
    const llm = (config.applications as Array<{ args: { llm_configs: Array<Record<string, unknown>> } }>)[0]!
      .args.llm_configs[0]!;
    delete llm.experimental_configs;
    llm.engine_kwargs = { tensor_parallel_size: 4 };
    const spec = await readLocalServiceSpec(writeServiceConfig(dir, "svc.yaml", config), dir);
    expect(spec.sim.ingress_replicas).toBeUndefined(); // parseSimConfig fills in 2 × replicas
    expect(spec.sim.engine).toMatchObject({ stream_batching_interval_ms: 50, enable_prefix_caching: true });
    expect(spec.profile.name).toBe("turbo");
  });

  it("finds an image_uri's Containerfile among the rendered images", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, "images", "rayoss-251"), { recursive: true });
    writeFileSync(join(dir, "images", "rayoss-251", "Containerfile"), OSS_CONTAINERFILE);
    const path = writeServiceConfig(
      dir,
      "svc.yaml",
      serviceConfig({ imageUri: "anyscale/image/rayoss-251:2" }),
    );
    expect((await readLocalServiceSpec(path, dir)).profile.name).toBe("oss");
  });

  it("reads query_auth_token_enabled: false", async () => {
    const dir = tempDir();
    const path = writeServiceConfig(dir, "svc.yaml", serviceConfig({ auth: false }));
    expect((await readLocalServiceSpec(path, dir)).authEnabled).toBe(false);
  });

  it("names the file and the dotted path of what is missing", async () => {
    const dir = tempDir();
    const config = serviceConfig();
    const llm = (config.applications as Array<{ args: { llm_configs: Array<Record<string, unknown>> } }>)[0]!
      .args.llm_configs[0]!;
    llm.model_loading_config = { model_source: "x" };
    llm.deployment_config = {};
    const path = writeServiceConfig(dir, "broken.yaml", config);
    const error = await userError(readLocalServiceSpec(path, dir));
    expect(error.message).toContain(path);
    expect(error.details.join("\n")).toContain(
      "applications.0.args.llm_configs.0.model_loading_config.model_id",
    );

    llm.model_loading_config = { model_id: "m" };
    const noReplicas = await userError(readLocalServiceSpec(writeServiceConfig(dir, "b2.yaml", config), dir));
    expect(noReplicas.details.join("\n")).toContain(
      "applications.0.args.llm_configs.0.deployment_config.autoscaling_config.min_replicas: missing",
    );

    llm.deployment_config = { autoscaling_config: { min_replicas: 0, max_replicas: 2 } };
    const zero = await userError(readLocalServiceSpec(writeServiceConfig(dir, "b3.yaml", config), dir));
    expect(zero.details.join("\n")).toMatch(/scales to zero/);
  });

  it("reports YAML syntax errors with line and column", async () => {
    const dir = tempDir();
    const path = writeServiceConfig(dir, "bad.yaml", "name: x\napplications: [\n  - oops: {\n");
    const error = await userError(readLocalServiceSpec(path, dir));
    expect(error.message).toContain("is not valid YAML");
    expect(error.details[0]).toMatch(/^• \d+:\d+: /);
  });

  it("says where it looked for a missing Containerfile and how paths resolve", async () => {
    const dir = tempDir();
    const path = writeServiceConfig(
      dir,
      "svc.yaml",
      serviceConfig({ containerfile: "images/nope/Containerfile" }),
    );
    const error = await userError(readLocalServiceSpec(path, dir));
    expect(error.message).toContain(join(dir, "images/nope/Containerfile"));
    expect(error.hint).toMatch(/directory you run in/);
  });
});
