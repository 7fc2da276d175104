import { isAbsolute, resolve } from "node:path";
import type { Cell } from "../plan/expand.js";
import type { Plan } from "../plan/resolve.js";
import { containerfilePath } from "./image.js";

/**
 * A cell → an Anyscale service config (docs/anyscale.md, "The service config file"). The
 * object is built in the order its keys should appear, and maps that come from the plan are
 * sorted, so the same plan always renders the same bytes.
 */

/** How the service gets its image: a built URI, or a Containerfile Anyscale builds at deploy time. */
export type ImageRef = { kind: "uri"; uri: string } | { kind: "containerfile"; path: string };

export type ServiceConfig = Record<string, unknown>;

/** The image reference used when no build has happened: the prebuilt URI, or the Containerfile. */
export function defaultImageRef(image: Cell["image"]): ImageRef {
  if (image.image_uri) return { kind: "uri", uri: image.image_uri };
  return { kind: "containerfile", path: containerfilePath(image) };
}

export interface RenderContext {
  /**
   * The plan file's folder. The CLI resolves a relative working_dir against the folder it runs
   * in (a run folder), so a run renders it absolute, as the plan's author meant it: relative to
   * the plan. Without it (`render`), working_dir is written as the plan gives it.
   */
  planDir?: string;
  /** The run's id, for its tag; absent when no run is in sight (`render`, the dry run). */
  runId?: string;
}

/** The run folder's tag on every service, so `teardown` and sweepers can find them. */
export const RUN_TAG = "orchestrate-run";

/**
 * Every tag a service carries, in one place: the plan's own, and the ones orchestrate adds to
 * find a run's services. The deploy passes all of them as `--tag` (which replaces the file's
 * map), and the rendered file carries the same map, so either way the service gets every one.
 */
export function serviceTags(plan: Plan, cell: Cell, runId?: string): Record<string, string> {
  return sorted({
    ...plan.deploy.tags,
    "orchestrate-plan": plan.name,
    "orchestrate-image": cell.image.name,
    "orchestrate-scale": `x${cell.scale.replicas}`,
    ...(runId ? { [RUN_TAG]: runId } : {}),
  });
}

export function renderServiceConfig(
  plan: Plan,
  cell: Cell,
  imageRef: ImageRef = defaultImageRef(cell.image),
  context: RenderContext = {},
): ServiceConfig {
  const config: ServiceConfig = { name: cell.serviceName };
  if (imageRef.kind === "uri") config.image_uri = imageRef.uri;
  else config.containerfile = imageRef.path;
  const compute = computeConfig(plan, cell);
  if (compute !== undefined) config.compute_config = compute;
  if (plan.deploy.cloud) config.cloud = plan.deploy.cloud;
  if (plan.deploy.project) config.project = plan.deploy.project;
  if (plan.application.working_dir)
    config.working_dir = workingDir(plan.application.working_dir, context.planDir);
  if (Object.keys(plan.application.env_vars).length > 0) config.env_vars = sorted(plan.application.env_vars);
  if (!plan.deploy.query_auth) config.query_auth_token_enabled = false;
  config.tags = serviceTags(plan, cell, context.runId);
  config.applications = [application(plan, cell)];
  return config;
}

/** A local path resolved against the plan's folder; a remote one (s3://, https://…) as given. */
function workingDir(dir: string, planDir: string | undefined): string {
  if (planDir === undefined || dir.includes("://") || isAbsolute(dir)) return dir;
  return resolve(planDir, dir);
}

function computeConfig(plan: Plan, cell: Cell): unknown {
  const { compute } = plan;
  if (compute.config) return compute.config;
  if (!compute.instance_type) return undefined;
  const nodes = cell.workerNodes ?? cell.scale.replicas;
  const inline: Record<string, unknown> = {};
  if (compute.head_instance_type) inline.head_node = { instance_type: compute.head_instance_type };
  inline.worker_nodes = [
    {
      instance_type: compute.instance_type,
      min_nodes: nodes,
      max_nodes: nodes,
      market_type: compute.market_type,
    },
  ];
  return inline;
}

function application(plan: Plan, cell: Cell): Record<string, unknown> {
  const llmConfig = llmConfigFor(plan, cell);
  const args: Record<string, unknown> =
    plan.application.args_layout === "llm_configs" ? { llm_configs: [llmConfig] } : { llm_config: llmConfig };
  if (plan.ingress.mechanism === "ingress_deployment_config") {
    args.ingress_deployment_config = {
      autoscaling_config: {
        min_replicas: cell.scale.ingress_replicas,
        max_replicas: cell.scale.ingress_replicas,
      },
      max_replicas_per_node: plan.ingress.max_replicas_per_node,
    };
  }
  return {
    name: plan.application.name,
    route_prefix: plan.application.route_prefix,
    import_path: plan.application.import_path,
    args,
  };
}

function llmConfigFor(plan: Plan, cell: Cell): Record<string, unknown> {
  const { model } = plan;
  const llm: Record<string, unknown> = {
    model_loading_config: { model_id: model.model_id, model_source: model.model_source },
  };
  if (model.accelerator_type) llm.accelerator_type = model.accelerator_type;
  // Fixed replicas (min = max): autoscaling would make the scale a moving target.
  llm.deployment_config = {
    autoscaling_config: { min_replicas: cell.scale.replicas, max_replicas: cell.scale.replicas },
    ...sorted(model.deployment_config),
  };
  llm.engine_kwargs = { tensor_parallel_size: model.tensor_parallel_size, ...sorted(model.engine_kwargs) };
  const experimental: Record<string, unknown> = {
    stream_batching_interval_ms: model.stream_batching_interval_ms,
  };
  if (plan.ingress.mechanism !== "ingress_deployment_config") {
    // Before Ray 2.51 the ingress count rode along in the LLM config's experimental section.
    experimental[plan.ingress.mechanism] = cell.scale.ingress_replicas;
  }
  llm.experimental_configs = experimental;
  return llm;
}

function sorted<T>(map: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
