import { z } from "zod";

/**
 * The plan file: one experiment, from model and images to workload and teardown policy. Every
 * object is strict (an unknown key is an error with a "did you mean"), and every field that can
 * have a sensible default has one, so a plan states only what matters for its experiment.
 * Cross-field rules (sizes that must fit, prefix caching, service names) live in resolve.ts.
 *
 * Each key's meaning is its `.describe()` text: docs/plan.md is generated from it
 * (`npm run docs:plan`), so the description goes on the outermost schema of the key, after
 * `.default()` / `.optional()`, where the JSON Schema export finds it.
 */

export const PLAN_FORMAT_VERSION = 1;

const positiveInt = z.number().int("must be a whole number").min(1, "must be a positive whole number");
const nonNegative = z.number().nonnegative();

/** Env var names as shells accept them; values are strings (YAML numbers are converted). */
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be a valid environment variable name");
// prefault, not default: the value is parsed (to strings) either way, and the JSON Schema export
// drops a default that sits after a transform, so docs/plan.md would not show it.
const envMap = z
  .record(envName, z.union([z.string(), z.number(), z.boolean()]).transform(String))
  .prefault({});

const modelSchema = z.strictObject({
  model_id: z
    .string()
    .min(1)
    .describe(
      'The name the service serves the model under: what clients send as "model", and what the readiness check looks for in /v1/models.',
    ),
  model_source: z
    .string()
    .min(1)
    .optional()
    .describe("The Hugging Face id or path the engine loads. Absent: model_id."),
  accelerator_type: z
    .string()
    .min(1)
    .optional()
    .describe(
      "A Ray accelerator type constant such as H100, passed to the LLM config as accelerator_type. Absent: not set.",
    ),
  tensor_parallel_size: positiveInt
    .default(1)
    .describe(
      "GPUs per LLM replica. Set it here, not in engine_kwargs; a replica's GPUs must fit on one node (compute.gpus_per_node).",
    ),
  engine_kwargs: z
    .record(z.string(), z.unknown())
    .default({})
    .describe(
      "vLLM engine arguments, passed through as they are (max_num_seqs, max_model_len, …). tensor_parallel_size is taken from model.tensor_parallel_size; enable_prefix_caching is always written out, false unless allow_prefix_caching permits true.",
    ),
  allow_prefix_caching: z
    .boolean()
    .default(false)
    .describe(
      "Permits engine_kwargs.enable_prefix_caching: true. Off by default because cache hits, not replicas, would then change the throughput; a report of such a run says so (warning P).",
    ),
  stream_batching_interval_ms: nonNegative
    .default(0)
    .describe(
      "Ray Serve's stream batcher interval, ms. 0 sends one chunk per token, as the benchmark wants; Ray's own default is 50, which coalesces tokens into fewer chunks.",
    ),
  deployment_config: z
    .record(z.string(), z.unknown())
    .default({})
    .describe(
      "Other deployment_config keys of the LLM deployment (max_ongoing_requests, …), passed through. The replica count comes from scales.",
    ),
  profile: z
    .string()
    .min(1)
    .optional()
    .describe(
      "A simulator profile: the name of one that ships with orchestrate (profiles/NAME.json, e.g. gpt-oss-120b-tp4-h100), found wherever the plan is, or a path to a JSON file that `orchestrate sim calibrate` writes, relative to the plan's folder. `predict` and the dry run compute the plan's time and cost with it, a run saves its prediction and the report compares every measured level with it, and the local target simulates its costs. Absent: the dry run cannot predict request times, and the local target uses its built-in costs (docs/simulator.md).",
    ),
  profile_speedup: z
    .number()
    .min(1, "must be at least 1 (1 = real speed)")
    .default(1)
    .describe(
      "Local target only: runs the profile this many times faster than the hardware it was measured on (every time cost divided by it), so a rehearsal of a slow model stays short. Latencies and throughputs are then in that faster time, and predictions for the run use the same factor. Refused in a plan whose target is anyscale (real GPUs run at their own speed); set aside, with a note, when a local plan is run with --target anyscale.",
    ),
});

const applicationSchema = z
  .strictObject({
    name: z.string().min(1).optional().describe("The Serve application's name. Absent: the plan's name."),
    route_prefix: z
      .string()
      .startsWith("/")
      .default("/")
      .describe("The HTTP path the application is served under."),
    import_path: z
      .string()
      .regex(/^[\w.]+:[\w.]+$/, "must look like module.path:attribute")
      .default("ray.serve.llm:build_openai_app")
      .describe(
        "The application builder, as module.path:attribute: Ray's OpenAI-compatible builder, or a custom one such as the seed's builder:builder.",
      ),
    args_layout: z
      .enum(["llm_configs", "llm_config"])
      .default("llm_configs")
      .describe(
        "How the builder takes its LLM config: a list under llm_configs (build_openai_app) or a single llm_config (custom builders).",
      ),
    working_dir: z
      .string()
      .min(1)
      .optional()
      .describe(
        'The runtime_env working_dir, needed for a custom builder that lives in the repository (e.g. ".").',
      ),
    env_vars: envMap.describe(
      "Environment variables of the application's runtime_env. Not for runtime switches, which are read when the container starts: those go into images[].env. Names that look like secrets are rejected.",
    ),
  })
  .prefault({})
  .describe("The Ray Serve application that wraps the model.");

const imageSchema = z.strictObject({
  name: z
    .string()
    .min(1)
    .describe(
      "A short name, unique in the plan (lowercase letters, digits, single hyphens); part of every service name and of the report's labels.",
    ),
  from: z.string().min(1).describe("The base image the Containerfile starts FROM."),
  env: envMap.describe(
    "Baked into the image with ENV, in this order, because runtime switches (ANYSCALE_DISABLE_OPTIMIZED_RAY, …) are read when the container starts. Names that look like secrets are rejected.",
  ),
  runtime: z
    .enum(["oss", "turbo"])
    .optional()
    .describe(
      "Which Ray the image runs, for the report's OSS vs Turbo comparison and the profile's costs. Absent: oss when env sets ANYSCALE_DISABLE_OPTIMIZED_RAY to \"1\", else turbo.",
    ),
  configs_dir: z
    .string()
    .regex(/^[\w.-]+(\/[\w.-]+)*$/, "must be a relative folder path")
    .optional()
    .describe("The folder its service configs are rendered into. Absent: `<runtime>_configs`."),
  image_uri: z
    .string()
    .min(1)
    .optional()
    .describe(
      "A prebuilt image to deploy as it is; nothing is built. Cannot be combined with build: containerfile.",
    ),
  build: z
    .enum(["image-build", "containerfile"])
    .default("image-build")
    .describe(
      "image-build: `anyscale image build` once per run, then every service deploys with its URI. containerfile: every service deploys with `containerfile:` and Anyscale builds it at deploy time.",
    ),
  ray_version: z
    .string()
    .optional()
    .describe("The image's Ray version, for the image build. Absent: the plan's ray_version."),
});

const scaleObjectSchema = z.strictObject({
  replicas: positiveInt.describe(
    "LLM replicas, fixed (min = max: no autoscaling during a measurement). A bare number `4` in scales means `{replicas: 4}`.",
  ),
  clients: positiveInt
    .optional()
    .describe(
      "Parallel benchmark clients. Absent: replicas × benchmark.clients_per_replica, so the per-client load is the load per replica at every scale.",
    ),
  ingress_replicas: positiveInt
    .optional()
    .describe("Ingress replicas. Absent: replicas × ingress.replicas_per_llm_replica."),
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
    replicas_per_llm_replica: positiveInt
      .default(2)
      .describe(
        "Ingress replicas per LLM replica, for scales that do not set ingress_replicas: the ingress scales with the model, so it does not become the bottleneck of the larger scales.",
      ),
    max_replicas_per_node: positiveInt
      .default(4)
      .describe("At most this many ingress replicas share a node."),
    mechanism: z
      .enum(["ingress_deployment_config", "num_router_replicas", "num_ingress_replicas"])
      .optional()
      .describe(
        "How the ingress replica count reaches Ray: ingress_deployment_config (Ray 2.51 and later), or before it experimental_configs.num_router_replicas (later renamed num_ingress_replicas). Absent: derived from ray_version; required for Ray before 2.51, because the version of the rename is not settled.",
      ),
  })
  .prefault({})
  .describe("The Serve ingress (the OpenAI-compatible router in front of the LLM replicas).");

const marketType = z.enum(["ON_DEMAND", "SPOT", "PREFER_SPOT"]);

const computeSchema = z
  .strictObject({
    config: z
      .string()
      .min(1)
      .optional()
      .describe('A named compute config ("name" or "name:version"). Not with instance_type.'),
    instance_type: z
      .string()
      .min(1)
      .optional()
      .describe(
        "Or an instance type for inline worker nodes, sized per scale from gpus_per_node and model.tensor_parallel_size (then gpus_per_node is required).",
      ),
    head_instance_type: z
      .string()
      .min(1)
      .optional()
      .describe(
        "The head node's instance type, with inline worker nodes. Absent: not set, and Anyscale chooses.",
      ),
    gpus_per_node: positiveInt
      .optional()
      .describe(
        "GPUs per worker node: sizes inline nodes, and checks that a replica's tensor-parallel group fits on a node and every scale fits within max_nodes.",
      ),
    max_nodes: positiveInt
      .optional()
      .describe(
        "The most worker nodes the config can have (a named config's limit, or a cap for inline nodes); every scale must fit. Needs gpus_per_node.",
      ),
    market_type: marketType
      .default("ON_DEMAND")
      .describe("On-demand or spot nodes. Spot nodes can be taken away mid-measurement."),
  })
  .prefault({})
  .describe(
    "Anyscale target only: the nodes the services run on. Without it, Anyscale uses the cloud's default compute config (the dry run says so).",
  );

const sloSchema = z.strictObject({
  ttft_ms: z.number().positive().optional().describe("Time to first token limit, ms."),
  tpot_ms: z.number().positive().optional().describe("Time per output token limit, ms."),
  e2el_ms: z.number().positive().optional().describe("End-to-end latency limit, ms."),
  percentile: z
    .union([z.literal(50), z.literal(90), z.literal(95), z.literal(99)])
    .optional()
    .describe(
      "Capacity criterion: a level meets the SLO when this percentile (50, 90, 95 or 99) of every limited latency is within its limit (percentile: 99 with ttft_ms: 500 is p99 TTFT ≤ 500 ms). The report then finds each scale's capacity, the largest request rate per replica that meets it. Not with goodput_fraction.",
    ),
  goodput_fraction: z
    .number()
    .gt(0)
    .max(1)
    .optional()
    .describe(
      "Capacity criterion: a level meets the SLO when at least this share of its requests meets every limit (request goodput / request throughput ≥ 0.95). The report then finds each scale's capacity. Not with percentile.",
    ),
  target_rate: z
    .number()
    .positive()
    .optional()
    .describe(
      "With a capacity criterion: the total request rate (req/s) the report sizes for, as the replicas needed to carry it at this SLO. Absent: no sizing.",
    ),
});

/**
 * Repeats until sure: each level is repeated until the 95% interval of its mean throughput is
 * within ±target_ci (relative) or `max` is reached; the sweep stops repeating a level once it is.
 */
/**
 * A request length: a number, or a distribution drawn per request (src/bench/lengths.ts). Bounds
 * are required where a tail is unbounded, so the longest prompt is known before a run starts.
 */
const bound = (what: string) => positiveInt.describe(what);
const lengthDistributionSchema = z.discriminatedUnion("distribution", [
  z.strictObject({
    distribution: z.literal("fixed"),
    value: positiveInt.describe("Every request has this length."),
  }),
  z.strictObject({
    distribution: z.literal("uniform"),
    min: bound("Shortest length."),
    max: bound("Longest length; every whole number from min to max is equally likely."),
  }),
  z.strictObject({
    distribution: z.literal("normal"),
    mean: z.number().positive().describe("Mean length."),
    std: nonNegative.describe("Standard deviation."),
    min: bound("Draws below are raised to this (required: a normal has no floor)."),
    max: bound("Draws above are cut to this (required: it must fit the model's context)."),
  }),
  z.strictObject({
    distribution: z.literal("lognormal"),
    median: z.number().positive().optional().describe("Median length (give this or mean)."),
    mean: z.number().positive().optional().describe("Mean length (give this or median)."),
    sigma: nonNegative.describe("Standard deviation of the length's logarithm (0.5 is a moderate tail)."),
    min: bound("Draws below are raised to this."),
    max: bound("Draws above are cut to this (required: the tail is unbounded)."),
  }),
]);
const lengthSchema = z.union([positiveInt, lengthDistributionSchema]);

const repeatsTargetSchema = z.strictObject({
  min: positiveInt
    .min(2, "must be at least 2: one repeat measures no spread")
    .default(3)
    .describe(
      "Repeats every level runs before its interval is judged (two measure a spread from one degree of freedom).",
    ),
  max: positiveInt
    .default(10)
    .describe("Repeats a level runs at most, sure or not; the dry run prices this many."),
  target_ci: z
    .number()
    .gt(0)
    .lt(1)
    .default(0.03)
    .describe(
      "Stop repeating a level once the 95% interval of its mean output throughput is within ± this, relative (0.03 = ±3%: two scales at ±3% give E(N) about ±4%, inside the report's ±5% band).",
    ),
  expected_cv: z
    .number()
    .gt(0)
    .lt(1)
    .default(0.05)
    .describe(
      "The between-repeat spread (coefficient of variation) the dry run and predict assume to price the expected count of repeats; the run measures the real one.",
    ),
});

const datasetSchema = z.strictObject({
  format: z
    .enum(["sharegpt", "jsonl"])
    .describe(
      'sharegpt: one JSON array of {id, conversations: [{from, value}, …]}; a conversation\'s first turn (from human or user) is the prompt and the second the answer, whose length (about 4 characters a token) becomes max_tokens; conversations with fewer than two turns are skipped. jsonl: one {"prompt": "…", "output_tokens": n} a line, output_tokens optional (default benchmark.output_tokens).',
    ),
  path: z
    .string()
    .min(1)
    .describe(
      "The file, relative to the plan's folder. Read streamed and checked row by row before anything starts.",
    ),
});

const replaySchema = z.strictObject({
  path: z
    .string()
    .min(1)
    .describe(
      "The trace file, relative to the plan's folder. Read streamed and checked row by row before anything starts.",
    ),
  format: z
    .enum(["mooncake"])
    .default("mooncake")
    .describe(
      'mooncake: JSONL, one request a line in time order, {"timestamp": ms, "input_length": tokens, "output_length": tokens, "hash_ids": […]}. Prompts are random token ids of exactly input_length (hash_ids are not replayed: no shared prefixes).',
    ),
  speeds: z
    .array(z.number().positive())
    .min(1)
    .default([1])
    .describe(
      "The levels: replay speeds per client. With N clients the rows are dealt round-robin and the trace's time axis is divided by speed × N, so the N clients together play every row once, at N × speed × the trace's rate, and each client carries speed × the trace's rate.",
    ),
});

const benchmarkSchema = z
  .strictObject({
    mode: z
      .enum(["concurrency", "request-rate", "replay"])
      .default("concurrency")
      .describe(
        "concurrency: a closed loop, each client keeps a fixed number of requests in flight (the seed's design). request-rate: an open loop, each client sends at a fixed rate whatever the server does. replay: each client plays its share of a recorded trace (benchmark.replay) on the trace's own schedule.",
      ),
    dataset: datasetSchema
      .optional()
      .describe(
        "Prompts from a file instead of random ones (concurrency and request-rate modes). Rows are used in file order: request g of a level, counted over every client (client p of N sends g = k·N + p − 1 for its k-th request, warm-up included), gets row g mod rows, so every scale and repeat sends the same prompts in the same order.",
      ),
    replay: replaySchema
      .optional()
      .describe("mode replay: the trace, its format and the speeds to play it at."),
    concurrency: z
      .array(positiveInt)
      .min(1)
      .default([4, 8, 16, 32, 48, 64, 128])
      .describe(
        "Concurrency mode: the levels, as requests in flight per client. Each level is measured once per repeat.",
      ),
    request_rates: z
      .array(z.number().positive())
      .min(1)
      .default([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
      .describe("Request-rate mode: the levels, as requests per second per client."),
    input_tokens: lengthSchema
      .default(5000)
      .describe(
        "Prompt length, tokens: a number, or a distribution ({distribution: uniform, min, max}; normal {mean, std, min, max}; lognormal {median or mean, sigma, min, max}; fixed {value}) drawn per request from the seed and the request's index, so request i asks for the same at every scale and repeat.",
      ),
    output_tokens: lengthSchema
      .default(250)
      .describe(
        "Answer length, tokens, a number or a distribution as input_tokens (sent as max_tokens with ignore_eos, so every answer has it).",
      ),
    endpoint: z
      .enum(["completions", "chat"])
      .default("completions")
      .describe(
        "completions: POST /v1/completions (prompts as token ids by default, exact lengths). chat: POST /v1/chat/completions with one user message of random words, each one token under benchmark.tokenizer; the server's count adds its chat template, reported as prompt_tokens_deviation.",
      ),
    tokenizer: z
      .enum(["o200k_harmony", "o200k_base", "cl100k_base"])
      .optional()
      .describe(
        "The model's tokenizer, to size text prompts (chat) in tokens; bundled, no download. Absent: o200k_harmony for gpt-oss models; for any other model chat is refused until this is set, rather than sending prompts of unknown length.",
      ),
    prompts_per_concurrency: positiveInt
      .default(10)
      .describe(
        "Concurrency mode: measured requests per level per client = this × the level's concurrency. 10 is what the seed ran.",
      ),
    num_prompts: positiveInt
      .default(500)
      .describe("Request-rate mode: measured requests per level per client."),
    duration_s: z
      .number()
      .positive()
      .optional()
      .describe(
        "Run each level for this many seconds instead of a request count (prompts_per_concurrency, num_prompts).",
      ),
    warmup_requests: z
      .number()
      .int()
      .nonnegative()
      .optional()
      .describe(
        "Requests per level per client sent before the measurement and left out of every statistic (counted in the result files). Absent: one wave, the level's concurrency, in concurrency mode, so every slot has served a request before anything is measured; none in request-rate mode. 0 turns it off.",
      ),
    arrival: z
      .enum(["poisson", "gamma", "constant"])
      .default("poisson")
      .describe(
        "Request-rate mode: how send times are spread. poisson (burstiness 1), gamma (any other burstiness) or constant (evenly spaced).",
      ),
    burstiness: z
      .number()
      .positive()
      .default(1)
      .describe("arrival: gamma only: the gamma shape; below 1 is burstier than Poisson, above 1 more even."),
    clients_per_replica: positiveInt
      .default(1)
      .describe("Benchmark clients per LLM replica, for scales that do not set clients."),
    seed: z
      .number()
      .int()
      .nonnegative()
      .optional()
      .describe(
        "The seed the prompts are drawn from. Absent: a fresh one per run, recorded in the results, so a run can be reproduced.",
      ),
    prompt_format: z
      .enum(["token-ids", "text"])
      .optional()
      .describe(
        "token-ids: prompts are sent as token ids, so the server sees exactly input_tokens (completions only). text: random words, for servers that take only text (the server's tokenizer decides the length; usage is checked against it). Absent: token-ids for completions, text for chat.",
      ),
    repeats: z
      .union([positiveInt, z.literal("auto"), repeatsTargetSchema])
      .default(1)
      .describe(
        "Run the whole sweep this many times (every level, then every level again), so the run-to-run spread is measured: the report's intervals and verdicts need at least 2, and 3 or more to mean much (docs/noise.md). 1: noise not measured. Or a target, `{min, max, target_ci}`: repeat until every level's throughput interval is within ±target_ci, or max is reached; `auto` is `{min: 3, max: 10, target_ci: 0.03}`.",
      ),
    slo: sloSchema
      .optional()
      .describe(
        "Service-level objectives: a request meets them when it is within every limit given. Goodput counts only such requests, and the report adds a scaling table under the SLOs. Absent: no goodput.",
      ),
    request_timeout_s: z
      .number()
      .positive()
      .default(600)
      .describe("Per-request timeout, s; a request that takes longer fails."),
  })
  .prefault({})
  .describe("The workload every cell runs, and how often.");

const deploySchema = z
  .strictObject({
    cloud: z
      .string()
      .min(1)
      .optional()
      .describe("Anyscale target only: the Anyscale cloud. Absent: the CLI's default cloud."),
    project: z
      .string()
      .min(1)
      .optional()
      .describe("Anyscale target only: the Anyscale project. Absent: the CLI's default project."),
    service_prefix: z
      .string()
      .min(1)
      .optional()
      .describe(
        "Prefix of every service name (`<prefix>-<image>-x<replicas>`), so that teardown can find a run's leftovers. Absent: the plan's name.",
      ),
    ready_timeout_s: z
      .number()
      .positive()
      .default(1800)
      .describe(
        "From deploy until the service is RUNNING, lists the model in /v1/models and answers a smoke completion, s. Also the limit of an image build.",
      ),
    poll_interval_s: z
      .number()
      .positive()
      .default(10)
      .describe("How often a service's state is polled, s (the local target polls at most every 0.2 s)."),
    unhealthy_grace_s: nonNegative
      .default(300)
      .describe(
        "Anyscale target only: UNHEALTHY often recovers, so a service fails only when it stays UNHEALTHY longer than this, s.",
      ),
    terminate_timeout_s: z
      .number()
      .positive()
      .default(600)
      .describe("How long teardown waits for a service to be confirmed terminated, s."),
    retries: z
      .number()
      .int()
      .nonnegative()
      .default(4)
      .describe(
        "Anyscale target only: how often a transient `anyscale` CLI failure (network, 5xx, 429, timeout) is retried, with jittered exponential backoff.",
      ),
    retry_min_s: z.number().positive().default(2).describe("Anyscale target only: the first backoff, s."),
    retry_max_s: z.number().positive().default(30).describe("Anyscale target only: the longest backoff, s."),
    cli_timeout_s: z
      .number()
      .positive()
      .default(120)
      .describe(
        "Anyscale target only: every `anyscale` call is killed, with its process group, after this many seconds, and counts as a transient failure: retried within the step's deadline.",
      ),
    query_auth: z
      .boolean()
      .default(true)
      .describe(
        "Whether the service requires its bearer token; false renders query_auth_token_enabled: false.",
      ),
    tags: z
      .record(z.string(), z.string())
      .default({})
      .describe(
        "Tags on every service, beside the orchestrate-* ones it adds to find a run's services (those keys are reserved). All reach the service as `--tag`; a key may not hold `:` or `=`, a value not `:`, and neither may be empty, since the CLI would mangle them.",
      ),
  })
  .prefault({})
  .describe("Deploying, waiting for and tearing down the services.");

const reportSchema = z
  .strictObject({
    linearity_tolerance: z
      .number()
      .gt(0)
      .max(0.5)
      .default(0.05)
      .describe(
        'The difference the report\'s verdicts treat as none, as a fraction (0.05 = ±5%): E(N) whose 95% interval lies within 100% ± this is "linear", and Turbo / OSS within 1 ± this is "the same"; an interval that holds 100% but reaches beyond it is "inconclusive" (docs/noise.md). `orchestrate report --linearity-tolerance` overrides it.',
      ),
  })
  .prefault({})
  .describe("How the report judges what it measured.");

/** A key that plans once had: rejected with a message that says what replaced it. */
function removedKey(message: string) {
  return z.undefined({ error: message }).optional().meta({ description: message, removed: true });
}

const costSchema = z
  .strictObject({
    gpu_hour_usd: z
      .number()
      .nonnegative()
      .optional()
      .describe("Price of one GPU-hour, USD. Absent: the dry run and predict give GPU-hours without a cost."),
    startup_minutes: nonNegative
      .default(20)
      .describe(
        "Anyscale target only: the dry run's assumption for deploying a service until it is ready, minutes per service (request times come from model.profile). Printed with the estimate.",
      ),
    teardown_minutes: nonNegative
      .default(5)
      .describe(
        "Anyscale target only: the dry run's assumption for tearing a service down, minutes per service.",
      ),
    assumed_ttft_ms: removedKey(
      "removed: the dry run now predicts request times with the simulator profile named by model.profile",
    ),
    assumed_tpot_ms: removedKey(
      "removed: the dry run now predicts request times with the simulator profile named by model.profile",
    ),
  })
  .prefault({})
  .describe("What the dry run and predict assume to price a plan.");

/**
 * Settings that only the local target (the simulator) has. A real service brings its own noise,
 * so a plan for anyscale that sets these is rejected (validate: checkPlan), never silently run.
 */
const localSchema = z.strictObject({
  noise: z
    .strictObject({
      step_jitter: nonNegative
        .max(2)
        .default(0)
        .describe(
          "Relative standard deviation of each replica's engine step time (0.1 = ±10%), a log-normal factor with mean 1.",
        ),
      jitter_period_ms: nonNegative
        .default(0)
        .describe(
          "How long one drawn jitter factor holds, ms. 0: a new one every step, which averages out within a level; a period makes whole stretches and whole levels faster or slower (run-to-run noise).",
        ),
      slowdown: z
        .strictObject({
          factor: z.number().positive().describe("Every engine step takes this many times as long."),
          after_s: nonNegative
            .default(0)
            .describe("From this many seconds after the replica's first request."),
          duration_s: z
            .number()
            .positive()
            .optional()
            .describe("For this many seconds. Absent: until the service stops."),
        })
        .optional()
        .describe("A slowdown episode on every replica. Absent: none."),
    })
    .optional()
    .describe(
      "Makes the simulated replicas noisy, as real engines are, so repeats and intervals can be seen without a GPU (docs/noise.md). Each service draws its own noise, seeded by its name. Absent: no noise.",
    ),
});

export const planSchema = z.strictObject({
  version: z
    .literal(
      PLAN_FORMAT_VERSION,
      `this plan format is not supported: orchestrate reads version ${PLAN_FORMAT_VERSION}`,
    )
    .default(PLAN_FORMAT_VERSION)
    .describe("The plan format's version; a plan of another version is rejected."),
  name: z
    .string()
    .min(1)
    .describe("Names the experiment: the run folder, the application and every service name start with it."),
  description: z
    .string()
    .optional()
    .describe("Free text about the experiment; kept with the run's copy of the plan, not otherwise used."),
  target: z
    .enum(["anyscale", "local"])
    .default("anyscale")
    .describe(
      "Where the services run: anyscale, through the `anyscale` CLI, or local, a simulator on this machine that rehearses the same rendered configs (docs/simulator.md). `--target` overrides it.",
    ),
  ray_version: z
    .string()
    .regex(/^\d+\.\d+(\.\d+)?$/, "must look like 2.51.0")
    .default("2.51.0")
    .describe(
      "The Ray version the images run. It decides how the ingress replica count is configured (ingress.mechanism).",
    ),
  model: modelSchema.describe("The model and how vLLM serves it."),
  application: applicationSchema,
  images: z
    .array(imageSchema)
    .min(1)
    .describe(
      "The images to compare, e.g. open-source Ray and Anyscale's runtime. Every image runs at every scale: one cell (service) each.",
    ),
  scales: z
    .array(scaleSchema)
    .min(1)
    .prefault([1, 2, 4])
    .describe(
      "The scales to measure. Each is a number of LLM replicas (`4`) or a map (`{replicas: 4, clients: 4}`); every scale must differ. Scaling efficiency is judged against the smallest.",
    ),
  ingress: ingressSchema,
  compute: computeSchema,
  benchmark: benchmarkSchema,
  deploy: deploySchema,
  teardown: z
    .enum(["always", "on-success", "never"])
    .default("always")
    .describe(
      "When services are torn down after their cell: always (also on failure and Ctrl-C), on-success (a failed service is kept to look at), or never. `--keep-services` means never.",
    ),
  cost: costSchema,
  report: reportSchema,
  local: localSchema
    .optional()
    .describe(
      "Local target only: settings of the simulator. A plan with target: anyscale that has this section is rejected (a real service brings its own noise); a local plan run with `--target anyscale` sets it aside with a note.",
    ),
});

/** The plan as written, after defaults. */
export type PlanInput = z.output<typeof planSchema>;
export type ImageInput = PlanInput["images"][number];
export type ScaleInput = PlanInput["scales"][number];
