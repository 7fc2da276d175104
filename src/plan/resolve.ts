import { lengthSpecProblems, maxLength } from "../model/lengths.js";
import { TOKENIZERS, tokenizerFor } from "../model/tokenizers.js";
import type { PlanIssue } from "./issues.js";
import type { ImageInput, PlanInput, ScaleInput } from "./schema.js";
import type { PlanPath } from "./source-map.js";

/**
 * The plan with every derived value filled in (runtimes, config folders, clients, ingress
 * replicas, the ingress mechanism, the service prefix) and every cross-field rule checked.
 * Everything after loading works on this type.
 */
export interface ResolvedImage extends ImageInput {
  runtime: "oss" | "turbo";
  configs_dir: string;
  ray_version: string;
}

export interface ResolvedScale {
  replicas: number;
  clients: number;
  ingress_replicas: number;
}

export type IngressMechanism = "ingress_deployment_config" | "num_router_replicas" | "num_ingress_replicas";

/**
 * Repeats until sure (benchmark.repeats as a target, or `auto`): a level stops repeating once its
 * throughput interval is within ±target_ci, after at least `min` repeats; `benchmark.repeats` is
 * then the most it may run.
 */
export interface RepeatsTarget {
  min: number;
  target_ci: number;
  /** The spread the dry run assumes to price the expected count. */
  expected_cv: number;
}

/** What `repeats: auto` means. */
export const AUTO_REPEATS = { min: 3, max: 10, target_ci: 0.03, expected_cv: 0.05 } as const;

export interface Plan
  extends Omit<
    PlanInput,
    "images" | "scales" | "application" | "ingress" | "deploy" | "model" | "benchmark"
  > {
  /** `repeats` is the most a level runs; `repeats_target` says when it may stop sooner. */
  benchmark: Omit<PlanInput["benchmark"], "repeats" | "prompt_format"> & {
    repeats: number;
    repeats_target?: RepeatsTarget;
    /** Chat prompts are text; completions prompts token ids unless the plan says text. */
    prompt_format: "token-ids" | "text";
  };
  model: PlanInput["model"] & { model_source: string; prefix_caching: boolean };
  application: PlanInput["application"] & { name: string };
  images: ResolvedImage[];
  scales: ResolvedScale[];
  ingress: PlanInput["ingress"] & { mechanism: IngressMechanism };
  deploy: PlanInput["deploy"] & { service_prefix: string };
}

/**
 * Anyscale serves each service at https://<name>-<5 hex>.<cloud>.s.anyscaleuserdata.com, so a
 * name is a DNS label with room for that suffix: lowercase letters, digits and single hyphens,
 * starting with a letter, at most 63 − 6 characters.
 */
export const MAX_SERVICE_NAME_LENGTH = 57;
const NAME_PART = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/** Where ingress_deployment_config appeared in Ray (PR #57724). */
const INGRESS_DEPLOYMENT_CONFIG_SINCE = [2, 51];

const SECRET_LOOKING_NAME = /(TOKEN|SECRET|PASSWORD|API_KEY|ACCESS_KEY|CREDENTIAL)/i;

export function serviceName(plan: Pick<Plan, "deploy">, image: { name: string }, replicas: number): string {
  return `${plan.deploy.service_prefix}-${image.name}-x${replicas}`;
}

/** Derives every value the plan leaves to defaults. Only called on a plan that passed checkPlan. */
export function resolvePlan(input: PlanInput): Plan {
  const kwargs = { ...input.model.engine_kwargs };
  delete kwargs.tensor_parallel_size;
  const prefixCaching = kwargs.enable_prefix_caching === true;
  // Always explicit in the rendered config: vLLM's own default has changed between versions.
  kwargs.enable_prefix_caching = prefixCaching;
  return {
    ...input,
    model: {
      ...input.model,
      model_source: input.model.model_source ?? input.model.model_id,
      engine_kwargs: kwargs,
      prefix_caching: prefixCaching,
    },
    application: { ...input.application, name: input.application.name ?? input.name },
    images: input.images.map((image) => resolveImage(image, input.ray_version)),
    scales: input.scales.map((scale) => resolveScale(scale, input)),
    ingress: { ...input.ingress, mechanism: ingressMechanism(input) ?? "num_ingress_replicas" },
    deploy: { ...input.deploy, service_prefix: servicePrefix(input) },
    benchmark: resolveBenchmark(input.benchmark),
  };
}

function resolveBenchmark(benchmark: PlanInput["benchmark"]): Plan["benchmark"] {
  const { repeats, prompt_format, ...given } = benchmark;
  const rest = {
    ...given,
    prompt_format: prompt_format ?? (benchmark.endpoint === "chat" ? "text" : "token-ids"),
  } as const;
  if (typeof repeats === "number") return { ...rest, repeats };
  const { max, ...target } = repeats === "auto" ? AUTO_REPEATS : repeats;
  return { ...rest, repeats: max, repeats_target: target };
}

/**
 * The rules that involve more than one field. Each runs when the sections it reads parsed, so
 * a plan with a broken section still gets every other problem reported in the same pass.
 */
export function checkPlan(input: Partial<PlanInput>): PlanIssue[] {
  const issues: PlanIssue[] = [];
  const { model, images, scales, compute, benchmark, application, ingress, deploy } = input;
  if (model) checkModel(model, issues);
  if (
    input.ray_version !== undefined &&
    ingress &&
    !ingressMechanism({ ray_version: input.ray_version, ingress })
  ) {
    issues.push({
      path: ["ray_version"],
      message:
        `Ray ${input.ray_version} predates ingress_deployment_config (Ray 2.51); set ingress.mechanism to how ` +
        "your Ray sets the ingress replica count: num_router_replicas or num_ingress_replicas (experimental_configs)",
    });
  }
  if (input.name !== undefined && deploy) checkPrefix({ name: input.name, deploy }, issues);
  if (deploy) checkTags(deploy.tags, issues);
  if (images) checkImageNames(images, issues);
  if (images) checkImageSources(images, issues);
  if (input.name !== undefined && deploy && images && scales) {
    checkNameLength({ name: input.name, deploy, images, scales }, issues);
  }
  if (scales) checkScales(scales, issues);
  if (compute) checkComputeShape(compute, issues);
  if (compute && model) checkFit(compute, model, scales ?? [], issues);
  if (benchmark) checkBenchmark(benchmark, issues);
  if (benchmark) checkLengths(benchmark, model, issues);
  if (images && application) checkNoSecretsBakedIn(images, application, issues);
  if (input.local !== undefined && input.target !== undefined && input.target !== "local") {
    issues.push({
      path: ["local"],
      message: `only the local target (the simulator) has these settings; target is ${input.target}. Remove local:, or run with --target local`,
    });
  }
  if (
    input.model?.profile_speedup !== undefined &&
    input.model.profile_speedup !== 1 &&
    input.target !== undefined &&
    input.target !== "local"
  ) {
    issues.push({
      path: ["model", "profile_speedup"],
      message: `only the local target (the simulator) can run faster than real; target is ${input.target}, whose GPUs run at their own speed. Remove it, or run with --target local`,
    });
  }
  return issues;
}

function checkModel(model: PlanInput["model"], issues: PlanIssue[]): void {
  const tpInKwargs = model.engine_kwargs.tensor_parallel_size;
  if (tpInKwargs !== undefined && tpInKwargs !== model.tensor_parallel_size) {
    issues.push({
      path: ["model", "engine_kwargs", "tensor_parallel_size"],
      message: `conflicts with model.tensor_parallel_size (${model.tensor_parallel_size}); set it only there`,
    });
  }
  const caching = model.engine_kwargs.enable_prefix_caching;
  if (caching !== undefined && typeof caching !== "boolean") {
    issues.push({
      path: ["model", "engine_kwargs", "enable_prefix_caching"],
      message: "must be true or false",
    });
  } else if (caching === true && !model.allow_prefix_caching) {
    issues.push({
      path: ["model", "engine_kwargs", "enable_prefix_caching"],
      message:
        "prefix caching confounds scaling results (cache hits, not replicas, change the throughput); " +
        "remove it, or set model.allow_prefix_caching: true to measure with it anyway (the report will say so)",
    });
  }
}

function resolveImage(image: ImageInput, rayVersion: string): ResolvedImage {
  const runtime = imageRuntime(image);
  return {
    ...image,
    runtime,
    configs_dir: image.configs_dir ?? `${runtime}_configs`,
    ray_version: image.ray_version ?? rayVersion,
  };
}

/** Anyscale images run RayTurbo unless this switch turns it off at container start. */
function imageRuntime(image: ImageInput): "oss" | "turbo" {
  return image.runtime ?? (image.env.ANYSCALE_DISABLE_OPTIMIZED_RAY === "1" ? "oss" : "turbo");
}

function resolveScale(scale: ScaleInput, input: Pick<PlanInput, "benchmark" | "ingress">): ResolvedScale {
  return {
    replicas: scale.replicas,
    clients: scale.clients ?? scale.replicas * input.benchmark.clients_per_replica,
    ingress_replicas: scale.ingress_replicas ?? scale.replicas * input.ingress.replicas_per_llm_replica,
  };
}

function servicePrefix(input: Pick<PlanInput, "name" | "deploy">): string {
  return input.deploy.service_prefix ?? input.name;
}

function ingressMechanism(input: Pick<PlanInput, "ray_version" | "ingress">): IngressMechanism | undefined {
  if (input.ingress.mechanism) return input.ingress.mechanism;
  return versionAtLeast(input.ray_version, INGRESS_DEPLOYMENT_CONFIG_SINCE)
    ? "ingress_deployment_config"
    : undefined;
}

function versionAtLeast(version: string, minimum: number[]): boolean {
  const parts = version.split(".").map(Number);
  for (let i = 0; i < minimum.length; i++) {
    const have = parts[i] ?? 0;
    const need = minimum[i] ?? 0;
    if (have !== need) return have > need;
  }
  return true;
}

const NAME_RULE =
  "lowercase letters, digits and single hyphens, starting with a letter (it becomes part of a URL)";

function prefixPath(input: Pick<PlanInput, "deploy">): PlanPath {
  return input.deploy.service_prefix ? ["deploy", "service_prefix"] : ["name"];
}

function checkPrefix(input: Pick<PlanInput, "name" | "deploy">, issues: PlanIssue[]): void {
  const prefix = servicePrefix(input);
  if (!NAME_PART.test(prefix) || !/^[a-z]/.test(prefix)) {
    issues.push({
      path: prefixPath(input),
      message: `"${prefix}" is not a valid service name prefix: use ${NAME_RULE}`,
    });
  }
}

/**
 * The CLI's `--tag` splits on the first `:` if there is one, else on the first `=`, and drops
 * empty keys and values: a tag that would be mangled is refused here rather than lost there.
 * The `orchestrate-` keys are the ones a run sets to find its services.
 */
function checkTags(tags: Record<string, string>, issues: PlanIssue[]): void {
  for (const [key, value] of Object.entries(tags)) {
    const path = ["deploy", "tags", key];
    if (key.trim() === "" || key.includes(":") || key.includes("=")) {
      issues.push({
        path,
        message: `tag key "${key}" would be mangled by the anyscale CLI's --tag (it splits on ":" or "=" and drops empty keys): use a non-empty key without ":" or "="`,
      });
    } else if (key.startsWith("orchestrate-")) {
      issues.push({
        path,
        message: `tag key "${key}" is reserved: orchestrate sets the orchestrate-* tags itself to find a run's services`,
      });
    }
    if (value.trim() === "" || value.includes(":")) {
      issues.push({
        path,
        message: `tag value "${value}" would be mangled by the anyscale CLI's --tag (it splits on the first ":" and drops empty values): use a non-empty value without ":"`,
      });
    }
  }
}

function checkImageNames(images: PlanInput["images"], issues: PlanIssue[]): void {
  const seen = new Map<string, number>();
  images.forEach((image, i) => {
    if (!NAME_PART.test(image.name)) {
      issues.push({
        path: ["images", i, "name"],
        message: `"${image.name}" is not a valid image name: use lowercase letters, digits and single hyphens`,
      });
    }
    const first = seen.get(image.name);
    if (first !== undefined) {
      issues.push({
        path: ["images", i, "name"],
        message: `"${image.name}" is already the name of images.${first}`,
      });
    }
    seen.set(image.name, i);
  });
}

function checkImageSources(images: PlanInput["images"], issues: PlanIssue[]): void {
  images.forEach((image, i) => {
    if (image.image_uri && image.build === "containerfile") {
      issues.push({
        path: ["images", i, "build"],
        message:
          "an image_uri is deployed as it is, so there is nothing to build from a Containerfile; remove one of them",
      });
    }
  });
}

function checkNameLength(
  input: Pick<PlanInput, "name" | "deploy" | "images" | "scales">,
  issues: PlanIssue[],
): void {
  const largest = Math.max(...input.scales.map((s) => s.replicas));
  for (const image of input.images) {
    const name = `${servicePrefix(input)}-${image.name}-x${largest}`;
    if (name.length > MAX_SERVICE_NAME_LENGTH) {
      issues.push({
        path: prefixPath(input),
        message: `service name "${name}" is ${name.length} characters; Anyscale allows ${MAX_SERVICE_NAME_LENGTH} here: shorten the prefix or the image names`,
      });
      return;
    }
  }
}

function checkScales(scales: PlanInput["scales"], issues: PlanIssue[]): void {
  const seen = new Map<number, number>();
  scales.forEach((scale, i) => {
    const first = seen.get(scale.replicas);
    if (first !== undefined) {
      issues.push({
        path: ["scales", i],
        message: `${scale.replicas} replicas is already scales.${first}; each scale must differ`,
      });
    }
    seen.set(scale.replicas, i);
  });
}

/** Without a compute section, Anyscale uses the cloud's default compute config (the dry run says so). */
function checkComputeShape(compute: PlanInput["compute"], issues: PlanIssue[]): void {
  if (compute.config && compute.instance_type) {
    issues.push({
      path: ["compute", "instance_type"],
      message: "give either compute.config (a named compute config) or compute.instance_type, not both",
    });
  }
  if (compute.instance_type && compute.gpus_per_node === undefined) {
    issues.push({
      path: ["compute", "gpus_per_node"],
      message: `is required with compute.instance_type, to size the worker nodes (how many GPUs does ${compute.instance_type} have?)`,
    });
  }
  if (compute.max_nodes !== undefined && compute.gpus_per_node === undefined) {
    issues.push({
      path: ["compute", "gpus_per_node"],
      message: "is required with compute.max_nodes, to check that every scale fits",
    });
  }
}

function checkFit(
  compute: PlanInput["compute"],
  model: PlanInput["model"],
  scales: PlanInput["scales"],
  issues: PlanIssue[],
): void {
  const gpus = compute.gpus_per_node;
  if (gpus === undefined) return;
  if (model.tensor_parallel_size > gpus) {
    issues.push({
      path: ["model", "tensor_parallel_size"],
      message: `${model.tensor_parallel_size} GPUs per replica do not fit on a node with ${gpus} GPUs (compute.gpus_per_node)`,
    });
    return;
  }
  const maxNodes = compute.max_nodes;
  if (maxNodes === undefined) return;
  scales.forEach((scale, i) => {
    const nodes = workerNodesFor(scale.replicas, model.tensor_parallel_size, gpus);
    if (nodes > maxNodes) {
      issues.push({
        path: ["scales", i],
        message: `${scale.replicas} replicas × tensor parallel ${model.tensor_parallel_size} need ${nodes} nodes of ${gpus} GPUs, but compute.max_nodes is ${maxNodes}`,
      });
    }
  });
}

/** A replica's tensor-parallel group stays on one node, so nodes hold floor(gpus / TP) replicas. */
export function workerNodesFor(replicas: number, tensorParallel: number, gpusPerNode: number): number {
  const replicasPerNode = Math.floor(gpusPerNode / tensorParallel);
  return Math.ceil(replicas / replicasPerNode);
}

function checkBenchmark(benchmark: PlanInput["benchmark"], issues: PlanIssue[]): void {
  const { levels, key } = benchmarkLevels(benchmark);
  const duplicates = levels.filter((v, i) => levels.indexOf(v) !== i);
  if (duplicates.length > 0) {
    issues.push({
      path: ["benchmark", ...key],
      message: `repeats ${duplicates.join(", ")}; use benchmark.repeats to run levels more than once`,
    });
  }
  const repeats = benchmark.repeats;
  if (typeof repeats === "object" && repeats.min > repeats.max) {
    issues.push({
      path: ["benchmark", "repeats", "min"],
      message: `is ${repeats.min}, more than max (${repeats.max})`,
    });
  }
  if (benchmark.arrival === "poisson" && benchmark.burstiness !== 1) {
    issues.push({
      path: ["benchmark", "burstiness"],
      message: "only applies to arrival: gamma (poisson is burstiness 1)",
    });
  }
  checkWorkloadFile(benchmark, issues);
  if (benchmark.slo) checkSlo(benchmark.slo, issues);
}

/** The capacity keys need a per-request limit to judge, and one criterion, not two. */
function checkSlo(slo: NonNullable<PlanInput["benchmark"]["slo"]>, issues: PlanIssue[]): void {
  const path = ["benchmark", "slo"];
  if (slo.ttft_ms === undefined && slo.tpot_ms === undefined && slo.e2el_ms === undefined) {
    issues.push({ path, message: "give at least one of ttft_ms, tpot_ms, e2el_ms, or remove it" });
  }
  if (slo.percentile !== undefined && slo.goodput_fraction !== undefined) {
    issues.push({
      path: [...path, "goodput_fraction"],
      message:
        "choose one capacity criterion: percentile (p99 of each latency within its limit) or goodput_fraction, not both",
    });
  }
  if (slo.target_rate !== undefined && slo.percentile === undefined && slo.goodput_fraction === undefined) {
    issues.push({
      path: [...path, "target_rate"],
      message:
        "sizes from the capacity, which needs a criterion: add percentile (e.g. 99) or goodput_fraction (e.g. 0.95)",
    });
  }
}

/**
 * Length distributions whose fields disagree (min above max, a lognormal with both median and
 * mean), and lengths the model cannot hold: the longest prompt plus the longest answer must fit
 * max_model_len, or requests would fail with HTTP 400 mid-run.
 */
function checkLengths(
  benchmark: PlanInput["benchmark"],
  model: PlanInput["model"] | undefined,
  issues: PlanIssue[],
): void {
  for (const key of ["input_tokens", "output_tokens"] as const) {
    for (const problem of lengthSpecProblems(key, benchmark[key])) {
      const [, message] = /^[^:]*: (.*)$/.exec(problem) ?? [problem, problem];
      issues.push({ path: ["benchmark", key], message: message ?? problem });
    }
  }
  if (benchmark.endpoint === "chat" && benchmark.prompt_format === "token-ids") {
    issues.push({
      path: ["benchmark", "prompt_format"],
      message:
        "token-ids applies to the completions endpoint; chat prompts are text (leave prompt_format out)",
    });
  }
  // A dataset brings its prompt text; only generated text has to be sized by a tokenizer.
  const generatesText = !benchmark.dataset;
  if (
    benchmark.endpoint === "chat" &&
    generatesText &&
    model &&
    !tokenizerFor(model.model_id, benchmark.tokenizer)
  ) {
    issues.push({
      path: ["benchmark", "endpoint"],
      message: `chat prompts of a set token length need the tokenizer of ${model.model_id}: set benchmark.tokenizer (${TOKENIZERS.join(", ")}); gpt-oss models need none`,
    });
  }
  const limit = model?.engine_kwargs.max_model_len;
  // A dataset's or a trace's rows are checked against the limit row by row, before the run.
  if (typeof limit !== "number" || benchmark.dataset || benchmark.mode === "replay") return;
  const longest = maxLength(benchmark.input_tokens) + maxLength(benchmark.output_tokens);
  if (longest > limit) {
    issues.push({
      path: ["benchmark", "input_tokens"],
      message: `the longest request is ${maxLength(benchmark.input_tokens)} prompt + ${maxLength(benchmark.output_tokens)} answer = ${longest} tokens, more than model.engine_kwargs.max_model_len ${limit}; lower the lengths (a distribution's max) or raise max_model_len`,
    });
  }
}

/** A replay needs its trace and plays it whole; a dataset gives prompts to the other modes. */
function checkWorkloadFile(benchmark: PlanInput["benchmark"], issues: PlanIssue[]): void {
  if (benchmark.mode === "replay") {
    if (!benchmark.replay)
      issues.push({
        path: ["benchmark", "replay"],
        message: "mode replay needs it: {path: TRACE.jsonl, speeds: [1]}",
      });
    if (benchmark.dataset)
      issues.push({
        path: ["benchmark", "dataset"],
        message:
          "a replay's trace gives each request its lengths; remove dataset, or use mode concurrency or request-rate",
      });
    if (benchmark.duration_s !== undefined)
      issues.push({
        path: ["benchmark", "duration_s"],
        message: "a replay lasts as long as its trace at each speed; remove duration_s",
      });
  } else if (benchmark.replay) {
    issues.push({
      path: ["benchmark", "replay"],
      message: `only mode replay plays a trace; mode is ${benchmark.mode}`,
    });
  }
  // A file's rows carry their own lengths; a distribution beside them would be accepted and ignored.
  if (benchmark.dataset || benchmark.mode === "replay") {
    for (const key of ["input_tokens", "output_tokens"] as const) {
      if (typeof benchmark[key] !== "number")
        issues.push({
          path: ["benchmark", key],
          message: `a ${benchmark.dataset ? "dataset" : "trace"} gives each request its lengths; give a number (a dataset's rows without output_tokens get output_tokens), not a distribution`,
        });
    }
  }
}

function checkNoSecretsBakedIn(
  images: PlanInput["images"],
  application: PlanInput["application"],
  issues: PlanIssue[],
): void {
  const advice =
    "secrets must not be baked into images or configs; give them to the service another way (Anyscale secrets, or the deploy environment)";
  images.forEach((image, i) => {
    for (const name of Object.keys(image.env)) {
      if (SECRET_LOOKING_NAME.test(name))
        issues.push({ path: ["images", i, "env", name], message: `looks like a secret: ${advice}` });
    }
  });
  for (const name of Object.keys(application.env_vars)) {
    if (SECRET_LOOKING_NAME.test(name))
      issues.push({ path: ["application", "env_vars", name], message: `looks like a secret: ${advice}` });
  }
}

/** The plan's levels for its mode, and the key that lists them. */
export function benchmarkLevels(
  benchmark: Pick<PlanInput["benchmark"], "mode" | "concurrency" | "request_rates" | "replay">,
): {
  levels: number[];
  /** Where the levels are, under benchmark. */
  key: string[];
} {
  if (benchmark.mode === "concurrency") return { levels: benchmark.concurrency, key: ["concurrency"] };
  if (benchmark.mode === "replay")
    return { levels: benchmark.replay?.speeds ?? [], key: ["replay", "speeds"] };
  return { levels: benchmark.request_rates, key: ["request_rates"] };
}
