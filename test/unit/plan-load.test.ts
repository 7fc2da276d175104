import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { UserError } from "../../src/errors.js";
import { loadPlan, SHIPPED_PROFILES_DIR } from "../../src/plan/load.js";

function planFile(text: string, files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "plan-"));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  const path = join(dir, "plan.yaml");
  writeFileSync(path, text.trimStart());
  return path;
}

const MINIMAL = `
name: demo
model:
  model_id: org/model
images:
  - name: oss
    from: base:1
    env: { ANYSCALE_DISABLE_OPTIMIZED_RAY: "1" }
  - name: turbo
    from: base:1
compute:
  config: gpus:1
`;

describe("plan defaults", () => {
  it("fills every field a minimal plan leaves out", () => {
    const { plan } = loadPlan(planFile(MINIMAL), { env: {} });
    expect(plan.version).toBe(1);
    expect(plan.target).toBe("anyscale");
    expect(plan.ray_version).toBe("2.51.0");
    expect(plan.model).toMatchObject({
      model_source: "org/model",
      tensor_parallel_size: 1,
      prefix_caching: false,
      engine_kwargs: { enable_prefix_caching: false },
      stream_batching_interval_ms: 0,
    });
    expect(plan.application).toMatchObject({
      name: "demo",
      import_path: "ray.serve.llm:build_openai_app",
      route_prefix: "/",
    });
    expect(plan.scales).toEqual([
      { replicas: 1, clients: 1, ingress_replicas: 2 },
      { replicas: 2, clients: 2, ingress_replicas: 4 },
      { replicas: 4, clients: 4, ingress_replicas: 8 },
    ]);
    expect(plan.ingress).toEqual({
      replicas_per_llm_replica: 2,
      max_replicas_per_node: 4,
      mechanism: "ingress_deployment_config",
    });
    expect(plan.benchmark).toMatchObject({
      mode: "concurrency",
      concurrency: [4, 8, 16, 32, 48, 64, 128],
      input_tokens: 5000,
      output_tokens: 250,
      prompts_per_concurrency: 10,
      num_prompts: 500,
      request_rates: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
      prompt_format: "token-ids",
      repeats: 1,
    });
    expect(plan.deploy).toMatchObject({
      service_prefix: "demo",
      ready_timeout_s: 1800,
      poll_interval_s: 10,
      query_auth: true,
    });
    expect(plan.teardown).toBe("always");
  });

  it("derives each image's runtime and configs folder from its ENV", () => {
    const { plan } = loadPlan(planFile(MINIMAL), { env: {} });
    expect(plan.images.map((i) => [i.name, i.runtime, i.configs_dir, i.build])).toEqual([
      ["oss", "oss", "oss_configs", "image-build"],
      ["turbo", "turbo", "turbo_configs", "image-build"],
    ]);
  });

  it("scales clients and ingress with the replicas unless a scale says otherwise", () => {
    const text = `${MINIMAL}
scales: [1, { replicas: 2, clients: 1, ingress_replicas: 3 }]
benchmark: { clients_per_replica: 2 }
ingress: { replicas_per_llm_replica: 3 }
`;
    const { plan } = loadPlan(planFile(text), { env: {} });
    expect(plan.scales).toEqual([
      { replicas: 1, clients: 2, ingress_replicas: 3 },
      { replicas: 2, clients: 1, ingress_replicas: 3 },
    ]);
  });

  it("accepts prefix caching when explicitly allowed, and records it", () => {
    const text = MINIMAL.replace(
      "model_id: org/model",
      "model_id: org/model\n  allow_prefix_caching: true\n  engine_kwargs: { enable_prefix_caching: true }",
    );
    const { plan } = loadPlan(planFile(text), { env: {} });
    expect(plan.model.prefix_caching).toBe(true);
  });

  it("overrides the target from the command line", () => {
    expect(loadPlan(planFile(MINIMAL), { env: {}, target: "local" }).plan.target).toBe("local");
  });

  it("reads repeats as a count, as auto, or as a target, and prices the maximum and the expected count", async () => {
    const { estimatePlan, expectedRepeats } = await import("../../src/plan/estimate.js");
    const { expandCells } = await import("../../src/plan/expand.js");
    const fixed = loadPlan(planFile(`${MINIMAL}benchmark:\n  repeats: 4\n`), { env: {} }).plan;
    expect(fixed.benchmark.repeats).toBe(4);
    expect(fixed.benchmark.repeats_target).toBeUndefined();
    const auto = loadPlan(planFile(`${MINIMAL}benchmark:\n  repeats: auto\n`), { env: {} }).plan;
    expect(auto.benchmark.repeats).toBe(10);
    expect(auto.benchmark.repeats_target).toEqual({ min: 3, target_ci: 0.03, expected_cv: 0.05 });
    const target = loadPlan(
      planFile(
        `${MINIMAL}benchmark:\n  repeats: {min: 3, max: 12, target_ci: 0.03, expected_cv: 0.03}\n  duration_s: 60\n`,
      ),
      { env: {} },
    ).plan;
    expect(target.benchmark.repeats).toBe(12);
    // t(n − 1) × 3% / √n ≤ 3% first holds at n = 7 (t(6) = 2.447 ≤ √7 = 2.646).
    expect(expectedRepeats(target.benchmark)).toBe(7);
    const estimate = estimatePlan(target, expandCells(target));
    // Three scales × two images, 60 s per level × the 7 default levels: the maximum prices 12
    // repeats, the expected count 7, plus 25 min start-up and teardown per cell either way.
    expect(target.benchmark.concurrency).toHaveLength(7);
    expect(estimate.cells[0]!.benchmarkMinutes).toBeCloseTo(7 * 12, 9);
    expect(estimate.expected?.repeats).toBe(7);
    expect(estimate.expected!.totalMinutes).toBeCloseTo(6 * (25 + 7 * 7), 9);
  });

  it("refuses a repeats target whose minimum is above its maximum, saying where", () => {
    const bad = planFile(`${MINIMAL}benchmark:\n  repeats: {min: 5, max: 4}\n`);
    expect(() => loadPlan(bad, { env: {} })).toThrowError(UserError);
    try {
      loadPlan(bad, { env: {} });
    } catch (error) {
      expect((error as UserError).details.join("\n")).toMatch(
        /benchmark\.repeats\.min.*is 5, more than max \(4\)/,
      );
    }
  });

  it("leaves warm-up to the benchmark's default (one wave) unless the plan gives a count", () => {
    expect(loadPlan(planFile(MINIMAL), { env: {} }).plan.benchmark.warmup_requests).toBeUndefined();
    const off = planFile(`${MINIMAL}benchmark:\n  warmup_requests: 0\n`);
    expect(loadPlan(off, { env: {} }).plan.benchmark.warmup_requests).toBe(0);
  });

  it("sets a local plan's simulator noise aside, with a note, when run with --target anyscale", () => {
    const local = planFile(`${MINIMAL}target: local\nlocal:\n  noise: { step_jitter: 0.1 }\n`);
    const onLocal = loadPlan(local, { env: {} });
    expect(onLocal.plan.local?.noise).toMatchObject({ step_jitter: 0.1, jitter_period_ms: 0 });
    expect(onLocal.notes).toEqual([]);
    const onAnyscale = loadPlan(local, { env: {}, target: "anyscale" });
    expect(onAnyscale.plan.target).toBe("anyscale");
    expect(onAnyscale.plan.local).toBeUndefined();
    expect(onAnyscale.notes).toEqual([expect.stringMatching(/^local: not applied with --target anyscale/)]);
  });

  it("runs a local plan's profile at real speed, with a note, when run with --target anyscale", () => {
    const local = planFile(`${MINIMAL}target: local\n`.replace("model:\n", "model:\n  profile_speedup: 4\n"));
    expect(loadPlan(local, { env: {} }).plan.model.profile_speedup).toBe(4);
    const onAnyscale = loadPlan(local, { env: {}, target: "anyscale" });
    expect(onAnyscale.plan.model.profile_speedup).toBe(1);
    expect(onAnyscale.notes).toEqual([
      expect.stringMatching(/^model\.profile_speedup: not applied with --target anyscale/),
    ]);
  });

  it("refuses a speed-up in a plan whose target is anyscale", () => {
    const text = `${MINIMAL}target: anyscale\n`.replace("model:\n", "model:\n  profile_speedup: 4\n");
    let error: unknown;
    try {
      loadPlan(planFile(text), { env: {} });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).details.join("\n")).toMatch(
      /model\.profile_speedup: only the local target \(the simulator\) can run faster than real/,
    );
  });

  it("hashes the resolved plan, so a changed variable changes the hash", () => {
    const path = planFile(MINIMAL.replace("org/model", "${MODEL}"));
    const a = loadPlan(path, { env: { MODEL: "a" } }).hash;
    expect(loadPlan(path, { env: { MODEL: "a" } }).hash).toBe(a);
    expect(loadPlan(path, { env: { MODEL: "b" } }).hash).not.toBe(a);
  });
});

describe("${VAR} expansion", () => {
  it("expands variables from the environment, with defaults and $$ escapes", () => {
    // A replacer function: in a replacement string, "$$" would itself be an escape.
    const text = MINIMAL.replace(
      "model_id: org/model",
      () => "model_id: ${ORG}/${NAME:-model}\n  model_source: s3://bucket/$${literal}",
    );
    const { plan } = loadPlan(planFile(text), { env: { ORG: "acme" } });
    expect(plan.model.model_id).toBe("acme/model");
    expect(plan.model.model_source).toBe("s3://bucket/${literal}");
  });

  it("reads a .env next to the plan, and lets the environment win", () => {
    const text = MINIMAL.replace("model_id: org/model", "model_id: ${MODEL}\n  model_source: ${SOURCE}");
    const path = planFile(text, { ".env": "MODEL=from-dotenv\nSOURCE=dotenv-source\n" });
    const { plan } = loadPlan(path, { env: { MODEL: "from-env" } });
    expect(plan.model.model_id).toBe("from-env");
    expect(plan.model.model_source).toBe("dotenv-source");
  });

  it("turns a reference that is the whole value into a number or boolean", () => {
    const text = `${MINIMAL}
cost:
  gpu_hour_usd: \${PRICE}
deploy:
  query_auth: \${AUTH:-false}
`;
    const { plan } = loadPlan(planFile(text), { env: { PRICE: "4.25" } });
    expect(plan.cost.gpu_hour_usd).toBe(4.25);
    expect(plan.deploy.query_auth).toBe(false);
  });

  it("cannot change the plan's structure through a variable", () => {
    const text = MINIMAL.replace("model_id: org/model", "model_id: ${EVIL}");
    const { plan } = loadPlan(planFile(text), { env: { EVIL: "x\nimages: []" } });
    expect(plan.model.model_id).toBe("x\nimages: []");
    expect(plan.images).toHaveLength(2);
  });
});

describe("plans that ship with orchestrate", () => {
  it("plans/scaling.yaml is the seed experiment", () => {
    const { plan } = loadPlan("plans/scaling.yaml", { env: {} });
    expect(plan.model).toMatchObject({
      model_id: "openai/gpt-oss-120b",
      tensor_parallel_size: 4,
      engine_kwargs: { kv_cache_dtype: "fp8", enable_prefix_caching: false },
      stream_batching_interval_ms: 0,
    });
    expect(plan.images.map((i) => ({ name: i.name, from: i.from, env: i.env }))).toEqual([
      {
        name: "rayoss-251",
        from: "anyscale/ray-llm:2.51.0-py311-cu128",
        env: { ANYSCALE_DISABLE_OPTIMIZED_RAY: "1", RAY_SERVE_THROUGHPUT_OPTIMIZED: "1" },
      },
      {
        name: "rayturbo-251",
        from: "anyscale/ray-llm:2.51.0-py311-cu128",
        env: {
          ANYSCALE_RAY_SERVE_ENABLE_HA_PROXY: "1",
          RAY_SERVE_THROUGHPUT_OPTIMIZED: "1",
          ANYSCALE_RAY_SERVE_DIRECT_INGRESS_MIN_DRAINING_PERIOD_S: "90",
        },
      },
    ]);
    expect(plan.scales).toEqual([
      { replicas: 1, clients: 1, ingress_replicas: 2 },
      { replicas: 2, clients: 2, ingress_replicas: 4 },
      { replicas: 4, clients: 4, ingress_replicas: 8 },
    ]);
    expect(plan.ingress.max_replicas_per_node).toBe(4);
    expect(plan.benchmark).toMatchObject({
      input_tokens: 5000,
      output_tokens: 250,
      concurrency: [4, 8, 16, 32, 48, 64, 128],
    });
  });

  it("plans/local.yaml validates and has the same shape on the local target", () => {
    const { plan } = loadPlan("plans/local.yaml", { env: {} });
    expect(plan.target).toBe("local");
    expect(plan.images.map((i) => i.name)).toEqual(["rayoss-251", "rayturbo-251"]);
    expect(plan.scales.map((s) => s.replicas)).toEqual([1, 2, 4]);
    expect(plan.scales.every((s) => s.clients === s.replicas && s.ingress_replicas === 2 * s.replicas)).toBe(
      true,
    );
    expect(plan.model.prefix_caching).toBe(false);
  });
});

describe("model.profile", () => {
  const withProfile = (profile: string) =>
    MINIMAL.replace("  model_id: org/model", `  model_id: org/model\n  profile: ${profile}`);
  const problems = (path: string) => {
    try {
      loadPlan(path, { env: {} });
    } catch (error) {
      return (error as UserError).details.join("\n");
    }
    throw new Error("the plan loaded");
  };

  it("finds a shipped profile by name, wherever the plan is", () => {
    const { plan } = loadPlan(planFile(withProfile("gpt-oss-120b-tp4-h100")), { env: {} });
    expect(plan.model.profile).toBe(join(SHIPPED_PROFILES_DIR, "gpt-oss-120b-tp4-h100.json"));
  });

  it("finds a path against the plan's folder", () => {
    const path = planFile(withProfile("mine.json"), { "mine.json": "{}" });
    expect(loadPlan(path, { env: {} }).plan.model.profile).toBe(join(path, "..", "mine.json"));
  });

  it("names the shipped profiles when a name is not one of them, with the closest", () => {
    expect(problems(planFile(withProfile("gpt-oss-120b-tp4-h10")))).toContain(
      'model.profile: no shipped profile is named "gpt-oss-120b-tp4-h10" (did you mean "gpt-oss-120b-tp4-h100"?); the shipped ones: gpt-oss-120b-tp4-h100',
    );
  });

  it("says how to name the shipped profile when a copied plan's relative path no longer reaches it", () => {
    expect(problems(planFile(withProfile("../profiles/gpt-oss-120b-tp4-h100.json")))).toMatch(
      /no such file .*\(paths resolve against the plan's folder\); to use the shipped profile, name it: profile: gpt-oss-120b-tp4-h100/,
    );
  });
});

describe("a variable set to nothing", () => {
  it("is refused like an unset one, saying it is empty", () => {
    const path = planFile(MINIMAL.replace("model_id: org/model", "model_id: ${ORCH_TEST_MODEL}"));
    expect(() => loadPlan(path, { env: { ORCH_TEST_MODEL: "" } })).toThrow(UserError);
    try {
      loadPlan(path, { env: { ORCH_TEST_MODEL: "" } });
    } catch (error) {
      expect((error as UserError).details.join("\n")).toContain(
        "model.model_id: environment variable ORCH_TEST_MODEL is set but empty (set it,",
      );
    }
  });
});
