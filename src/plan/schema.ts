import { z } from "zod";

/**
 * The plan file: one experiment, from model and images to workload and teardown policy. Every
 * object is strict (an unknown key is an error with a "did you mean"), and every field that can
 * have a sensible default has one, so a plan states only what matters for its experiment.
 * Cross-field rules (sizes that must fit, prefix caching, service names) live in resolve.ts.
 */

export const PLAN_FORMAT_VERSION = 1;

const positiveInt = z.number().int("must be a whole number").min(1, "must be a positive whole number");
const nonNegative = z.number().nonnegative();

/** Env var names as shells accept them; values are strings (YAML numbers are converted). */
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be a valid environment variable name");
const envMap = z.record(envName, z.union([z.string(), z.number(), z.boolean()]).transform(String));

const modelSchema = z.strictObject({
  /** The name the service serves the model under (what clients put in "model"). */
  model_id: z.string().min(1),
  /** Hugging Face id or path the engine loads; defaults to model_id. */
  model_source: z.string().min(1).optional(),
  /** A Ray accelerator type constant such as H100; optional. */
  accelerator_type: z.string().min(1).optional(),
  tensor_parallel_size: positiveInt.default(1),
  /** Passed to vLLM as they are; tensor_parallel_size and enable_prefix_caching are set from here. */
  engine_kwargs: z.record(z.string(), z.unknown()).default({}),
  /** Prefix cache hits confound scaling results, so it stays off unless allow_prefix_caching says otherwise. */
  allow_prefix_caching: z.boolean().default(false),
  /** Ray Serve's stream batcher; the benchmark sets 0 (one chunk per token). Ray's own default is 50. */
  stream_batching_interval_ms: nonNegative.default(0),
  /** Other deployment_config keys for the LLM deployment (max_ongoing_requests, …), passed through. */
  deployment_config: z.record(z.string(), z.unknown()).default({}),
  /**
   * A simulator profile (`orchestrate sim calibrate` writes them), relative to the plan's folder:
   * what `predict` and the dry run compute the plan's time and cost with, what a run's report
   * compares its measurements with, and the costs the local target simulates.
   */
  profile: z.string().min(1).optional(),
  /**
   * The local target runs the profile this many times faster than the hardware it was measured
   * on (every time cost divided by it), so a rehearsal of a slow model stays short. Its latencies
   * and throughputs are then in that faster time; predictions for the run use the same factor.
   * Ignored on the anyscale target: real GPUs run at their own speed.
   */
  profile_speedup: z.number().min(1, "must be at least 1 (1 = real speed)").default(1),
});

const applicationSchema = z
  .strictObject({
    /** Serve application name; defaults to the plan name. */
    name: z.string().min(1).optional(),
    route_prefix: z.string().startsWith("/").default("/"),
    /** ray.serve.llm:build_openai_app, or a custom builder such as the seed's builder:builder. */
    import_path: z
      .string()
      .regex(/^[\w.]+:[\w.]+$/, "must look like module.path:attribute")
      .default("ray.serve.llm:build_openai_app"),
    /** How the builder takes its LLM config: a list (build_openai_app) or a single llm_config. */
    args_layout: z.enum(["llm_configs", "llm_config"]).default("llm_configs"),
    /** Needed for a custom builder that lives in the repository, e.g. ".". */
    working_dir: z.string().min(1).optional(),
    /** Env vars for the application's runtime_env (not runtime switches: those go into images). */
    env_vars: envMap.default({}),
  })
  .prefault({});

const imageSchema = z.strictObject({
  name: z.string().min(1),
  /** The base image (FROM). */
  from: z.string().min(1),
  /** Baked in with ENV, in this order: runtime switches are read when the container starts. */
  env: envMap.default({}),
  /** oss or turbo; derived from ANYSCALE_DISABLE_OPTIMIZED_RAY when absent. */
  runtime: z.enum(["oss", "turbo"]).optional(),
  /** Where its service configs are rendered; derived from the runtime when absent. */
  configs_dir: z
    .string()
    .regex(/^[\w.-]+(\/[\w.-]+)*$/, "must be a relative folder path")
    .optional(),
  /** A prebuilt image; when set nothing is built. */
  image_uri: z.string().min(1).optional(),
  /**
   * image-build: `anyscale image build` once per run, then deploy with its URI (default).
   * containerfile: deploy with `containerfile:` and let Anyscale build it at deploy time.
   */
  build: z.enum(["image-build", "containerfile"]).default("image-build"),
  /** The Ray version of the image, for the image build; defaults to the plan's ray_version. */
  ray_version: z.string().optional(),
});

const scaleObjectSchema = z.strictObject({
  /** LLM replicas (fixed: min = max). */
  replicas: positiveInt,
  /** Parallel benchmark clients; default replicas × benchmark.clients_per_replica. */
  clients: positiveInt.optional(),
  /** Ingress replicas; default replicas × ingress.replicas_per_llm_replica. */
  ingress_replicas: positiveInt.optional(),
});

/** A scale is `{ replicas: 4, … }` or just `4`. */
const scaleSchema = z.union(
  [
    positiveInt.transform((replicas) => ({ replicas }) as z.output<typeof scaleObjectSchema>),
    scaleObjectSchema,
  ],
  { error: "must be a number of LLM replicas (e.g. 4) or a map such as {replicas: 4, clients: 4}" },
);

const ingressSchema = z
  .strictObject({
    replicas_per_llm_replica: positiveInt.default(2),
    max_replicas_per_node: positiveInt.default(4),
    /**
     * How the ingress replica count reaches Ray. ingress_deployment_config arrived around Ray
     * 2.51; before it, experimental_configs.num_router_replicas (later num_ingress_replicas).
     * Derived from ray_version when absent; required for older Ray because the rename's version
     * is not settled.
     */
    mechanism: z
      .enum(["ingress_deployment_config", "num_router_replicas", "num_ingress_replicas"])
      .optional(),
  })
  .prefault({});

const marketType = z.enum(["ON_DEMAND", "SPOT", "PREFER_SPOT"]);

const computeSchema = z
  .strictObject({
    /** A named compute config ("name" or "name:version"). */
    config: z.string().min(1).optional(),
    /** Or an instance type for inline worker nodes, sized per scale. */
    instance_type: z.string().min(1).optional(),
    head_instance_type: z.string().min(1).optional(),
    gpus_per_node: positiveInt.optional(),
    /** The most worker nodes the config can have (a named config's limit, or a cap for inline). */
    max_nodes: positiveInt.optional(),
    market_type: marketType.default("ON_DEMAND"),
  })
  .prefault({});

const sloSchema = z.strictObject({
  ttft_ms: z.number().positive().optional(),
  tpot_ms: z.number().positive().optional(),
  e2el_ms: z.number().positive().optional(),
});

const benchmarkSchema = z
  .strictObject({
    mode: z.enum(["concurrency", "request-rate"]).default("concurrency"),
    /** Per-client concurrency levels (mode concurrency). */
    concurrency: z.array(positiveInt).min(1).default([4, 8, 16, 32, 48, 64, 128]),
    /** Per-client request rates in req/s (mode request-rate). */
    request_rates: z.array(z.number().positive()).min(1).default([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
    input_tokens: positiveInt.default(5000),
    output_tokens: positiveInt.default(250),
    /** Requests per level per client = this × concurrency (the seed's 10×), in concurrency mode. */
    prompts_per_concurrency: positiveInt.default(10),
    /** Requests per level per client in request-rate mode. */
    num_prompts: positiveInt.default(500),
    /** Run each level for this long instead of a request count. */
    duration_s: z.number().positive().optional(),
    /**
     * Requests per level per client sent first and left out of the statistics. Absent: one wave
     * (the level's concurrency) in concurrency mode, none in request-rate mode; 0 turns it off.
     */
    warmup_requests: z.number().int().nonnegative().optional(),
    /** Arrival process in request-rate mode: poisson (burstiness 1), gamma (other), constant. */
    arrival: z.enum(["poisson", "gamma", "constant"]).default("poisson"),
    burstiness: z.number().positive().default(1),
    clients_per_replica: positiveInt.default(1),
    /** Fixed seed for the prompts; a fresh one per run (recorded) when absent. */
    seed: z.number().int().nonnegative().optional(),
    prompt_format: z.enum(["token-ids", "text"]).default("token-ids"),
    /** Run the whole sweep this many times (every level, then again), for a measured spread. */
    repeats: positiveInt.default(1),
    slo: sloSchema.optional(),
    /** Per-request timeout. */
    request_timeout_s: z.number().positive().default(600),
  })
  .prefault({});

const deploySchema = z
  .strictObject({
    cloud: z.string().min(1).optional(),
    project: z.string().min(1).optional(),
    /** Prefix of every service name; defaults to the plan name. */
    service_prefix: z.string().min(1).optional(),
    /** From deploy until RUNNING, /v1/models and a smoke completion all succeed. */
    ready_timeout_s: z.number().positive().default(1800),
    poll_interval_s: z.number().positive().default(10),
    /** UNHEALTHY often recovers; fail only when it lasts longer than this. */
    unhealthy_grace_s: nonNegative.default(300),
    terminate_timeout_s: z.number().positive().default(600),
    /** Transient CLI failures (network, 5xx, 429) are retried this often, with jittered backoff. */
    retries: z.number().int().nonnegative().default(4),
    retry_min_s: z.number().positive().default(2),
    retry_max_s: z.number().positive().default(30),
    /**
     * Every `anyscale` call is killed (with its process group) after this long and counts as a
     * passing failure: retried within the step's deadline.
     */
    cli_timeout_s: z.number().positive().default(120),
    query_auth: z.boolean().default(true),
    tags: z.record(z.string(), z.string()).default({}),
  })
  .prefault({});

/** A key that plans once had: rejected with a message that says what replaced it. */
function removedKey(message: string) {
  return z.undefined({ error: message }).optional();
}

const costSchema = z
  .strictObject({
    gpu_hour_usd: z.number().nonnegative().optional(),
    /** Assumptions for the dry-run's time estimate (request times come from model.profile); printed with it. */
    startup_minutes: nonNegative.default(20),
    teardown_minutes: nonNegative.default(5),
    assumed_ttft_ms: removedKey(
      "removed: the dry run now predicts request times with the simulator profile named by model.profile",
    ),
    assumed_tpot_ms: removedKey(
      "removed: the dry run now predicts request times with the simulator profile named by model.profile",
    ),
  })
  .prefault({});

/**
 * Settings that only the local target (the simulator) has. A real service brings its own noise,
 * so a plan for anyscale that sets these is rejected (validate: checkPlan), never silently run.
 */
const localSchema = z.strictObject({
  /** Makes the simulated replicas noisy, as real engines are (docs/noise.md). */
  noise: z
    .strictObject({
      /** Relative standard deviation of each replica's step time (0.1 = ±10%). */
      step_jitter: nonNegative.max(2).default(0),
      /** How long one drawn jitter factor holds, ms; 0 = a new one every step. */
      jitter_period_ms: nonNegative.default(0),
      /** Every step takes `factor` times as long from after_s (after a replica's first request), for duration_s. */
      slowdown: z
        .strictObject({
          factor: z.number().positive(),
          after_s: nonNegative.default(0),
          duration_s: z.number().positive().optional(),
        })
        .optional(),
    })
    .optional(),
});

export const planSchema = z.strictObject({
  version: z
    .literal(
      PLAN_FORMAT_VERSION,
      `this plan format is not supported: orchestrate reads version ${PLAN_FORMAT_VERSION}`,
    )
    .default(PLAN_FORMAT_VERSION),
  /** Names the experiment and prefixes every service. */
  name: z.string().min(1),
  description: z.string().optional(),
  target: z.enum(["anyscale", "local"]).default("anyscale"),
  /** The Ray version the images run; decides how the ingress is configured. */
  ray_version: z
    .string()
    .regex(/^\d+\.\d+(\.\d+)?$/, "must look like 2.51.0")
    .default("2.51.0"),
  model: modelSchema,
  application: applicationSchema,
  images: z.array(imageSchema).min(1),
  scales: z
    .array(scaleSchema)
    .min(1)
    .default([1, 2, 4].map((replicas) => ({ replicas }))),
  ingress: ingressSchema,
  compute: computeSchema,
  benchmark: benchmarkSchema,
  deploy: deploySchema,
  teardown: z.enum(["always", "on-success", "never"]).default("always"),
  cost: costSchema,
  local: localSchema.optional(),
});

/** The plan as written, after defaults. */
export type PlanInput = z.output<typeof planSchema>;
export type ImageInput = PlanInput["images"][number];
export type ScaleInput = PlanInput["scales"][number];
