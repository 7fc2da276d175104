/**
 * Writes small rendered-style Anyscale service configs (and Containerfiles) into a temp folder,
 * for tests of the local target.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";

export interface ServiceConfigOptions {
  name?: string;
  model?: string;
  replicas?: number;
  ingressReplicas?: number;
  containerfile?: string;
  imageUri?: string;
  engineKwargs?: Record<string, unknown>;
  streamBatchingMs?: number;
  auth?: boolean;
}

export function tempDir(prefix = "orchestrate-sim-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function serviceConfig(options: ServiceConfigOptions = {}): Record<string, unknown> {
  const replicas = options.replicas ?? 1;
  const args: Record<string, unknown> = {
    llm_configs: [
      {
        model_loading_config: { model_id: options.model ?? "sim-model", model_source: "openai/gpt-oss-120b" },
        accelerator_type: "H100",
        deployment_config: { autoscaling_config: { min_replicas: replicas, max_replicas: replicas } },
        engine_kwargs: { tensor_parallel_size: 4, enable_prefix_caching: false, ...options.engineKwargs },
        experimental_configs: { stream_batching_interval_ms: options.streamBatchingMs ?? 0 },
      },
    ],
  };
  if (options.ingressReplicas !== undefined) {
    args.ingress_deployment_config = {
      autoscaling_config: { min_replicas: options.ingressReplicas, max_replicas: options.ingressReplicas },
      max_replicas_per_node: 4,
    };
  }
  return {
    name: options.name ?? "svc",
    ...(options.containerfile ? { containerfile: options.containerfile } : {}),
    ...(options.imageUri ? { image_uri: options.imageUri } : {}),
    compute_config: "h100-8x:1",
    ...(options.auth === false ? { query_auth_token_enabled: false } : {}),
    applications: [{ name: "llm", route_prefix: "/", import_path: "ray.serve.llm:build_openai_app", args }],
  };
}

/** Writes a config (object or raw text) and returns its path. */
export function writeServiceConfig(
  dir: string,
  file: string,
  config: Record<string, unknown> | string,
): string {
  const path = join(dir, file);
  writeFileSync(path, typeof config === "string" ? config : stringify(config));
  return path;
}

export const OSS_CONTAINERFILE = [
  "FROM anyscale/ray-llm:2.51.0-py311-cu128",
  "ENV ANYSCALE_DISABLE_OPTIMIZED_RAY=1",
  "ENV RAY_SERVE_THROUGHPUT_OPTIMIZED=1",
  "",
].join("\n");

export const TURBO_CONTAINERFILE = [
  "FROM anyscale/ray-llm:2.51.0-py311-cu128",
  "ENV ANYSCALE_RAY_SERVE_ENABLE_HA_PROXY=1 \\",
  "    RAY_SERVE_THROUGHPUT_OPTIMIZED=1",
  "ENV ANYSCALE_RAY_SERVE_DIRECT_INGRESS_MIN_DRAINING_PERIOD_S 90",
  "",
].join("\n");
