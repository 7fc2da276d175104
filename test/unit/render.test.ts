import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { expandCells } from "../../src/plan/expand.js";
import { loadPlan } from "../../src/plan/load.js";
import { renderContainerfile } from "../../src/render/image.js";
import { renderServiceConfig } from "../../src/render/service.js";
import { renderPlanFiles, writeRenderedFiles } from "../../src/render/write.js";
import { clearSecrets, registerSecret } from "../../src/secrets.js";

afterEach(() => clearSecrets());

function load(text: string) {
  const dir = mkdtempSync(join(tmpdir(), "render-"));
  const path = join(dir, "plan.yaml");
  writeFileSync(path, text.trimStart());
  return loadPlan(path, { env: {} }).plan;
}

const scaling = () => loadPlan("plans/scaling.yaml", { env: {} }).plan;

describe("service config rendering", () => {
  it("renders the seed's 4x OSS cell exactly", () => {
    const plan = scaling();
    const files = renderPlanFiles(plan, expandCells(plan));
    const x4 = files.find((f) => f.path === "oss_configs/gptoss-120b-rayoss-251-x4.yaml");
    expect(x4?.content).toBe(`# Anyscale service config rendered by orchestrate from plan "gptoss-120b".
# Do not edit: change the plan and run \`orchestrate render\`. Deploy from this folder's parent:
#   anyscale service deploy -f <this file>
name: gptoss-120b-rayoss-251-x4
containerfile: images/rayoss-251/Containerfile
compute_config: 8xh100-workers:3
env_vars:
  VLLM_DISABLE_COMPILED_CACHE: "1"
tags:
  orchestrate-image: rayoss-251
  orchestrate-plan: gptoss-120b
  orchestrate-scale: x4
applications:
  - name: gptoss-120b
    route_prefix: /
    import_path: ray.serve.llm:build_openai_app
    args:
      llm_configs:
        - model_loading_config:
            model_id: openai/gpt-oss-120b
            model_source: openai/gpt-oss-120b
          accelerator_type: H100
          deployment_config:
            autoscaling_config:
              min_replicas: 4
              max_replicas: 4
          engine_kwargs:
            tensor_parallel_size: 4
            enable_prefix_caching: false
            kv_cache_dtype: fp8
          experimental_configs:
            stream_batching_interval_ms: 0
      ingress_deployment_config:
        autoscaling_config:
          min_replicas: 8
          max_replicas: 8
        max_replicas_per_node: 4
`);
  });

  it("gives every cell fixed LLM replicas and its own ingress replicas", () => {
    const plan = scaling();
    for (const cell of expandCells(plan)) {
      const config = renderServiceConfig(plan, cell) as any;
      const args = config.applications[0].args;
      const n = cell.scale.replicas;
      expect(config.name).toBe(`gptoss-120b-${cell.image.name}-x${n}`);
      expect(args.llm_configs[0].deployment_config.autoscaling_config).toEqual({
        min_replicas: n,
        max_replicas: n,
      });
      expect(args.ingress_deployment_config.autoscaling_config).toEqual({
        min_replicas: 2 * n,
        max_replicas: 2 * n,
      });
    }
  });

  it("sizes inline worker nodes from replicas × TP ÷ GPUs per node", () => {
    const plan = load(`
name: demo
model: { model_id: m, tensor_parallel_size: 4 }
images: [{ name: oss, from: base }]
scales: [1, 2, 3, 4]
compute: { instance_type: p5.48xlarge, gpus_per_node: 8, head_instance_type: m5.2xlarge, market_type: SPOT }
`);
    const nodes = expandCells(plan).map((cell) => {
      const compute = (renderServiceConfig(plan, cell) as any).compute_config;
      expect(compute.head_node).toEqual({ instance_type: "m5.2xlarge" });
      const [workers] = compute.worker_nodes;
      expect(workers.min_nodes).toBe(workers.max_nodes);
      expect(workers).toMatchObject({ instance_type: "p5.48xlarge", market_type: "SPOT" });
      return workers.min_nodes;
    });
    // Two TP4 replicas fit on an 8-GPU node.
    expect(nodes).toEqual([1, 1, 2, 2]);
  });

  it("puts the ingress count where older Ray reads it", () => {
    const plan = load(`
name: demo
ray_version: "2.49.1"
model: { model_id: m }
images: [{ name: oss, from: base }]
scales: [3]
ingress: { mechanism: num_router_replicas }
compute: { config: c }
`);
    const [cell] = expandCells(plan);
    const args = (renderServiceConfig(plan, cell!) as any).applications[0].args;
    expect(args.ingress_deployment_config).toBeUndefined();
    expect(args.llm_configs[0].experimental_configs).toEqual({
      stream_batching_interval_ms: 0,
      num_router_replicas: 6,
    });
  });

  it("renders a custom builder's single llm_config, working dir, auth off, a prebuilt image", () => {
    const plan = load(`
name: demo
model: { model_id: m }
application: { import_path: "builder:builder", args_layout: llm_config, working_dir: "." }
images: [{ name: oss, from: base, image_uri: "anyscale/image/rayoss-251:1" }]
scales: [1]
deploy: { query_auth: false, cloud: my-cloud, project: my-project }
compute: { config: c }
`);
    const files = renderPlanFiles(plan, expandCells(plan));
    // No Containerfile (nothing to build), and no ANYSCALE_DISABLE_OPTIMIZED_RAY, so a RayTurbo image.
    expect(files.map((f) => f.path)).toEqual(["turbo_configs/demo-oss-x1.yaml"]);
    const config = parse(files[0]!.content);
    expect(config).toMatchObject({
      image_uri: "anyscale/image/rayoss-251:1",
      cloud: "my-cloud",
      project: "my-project",
      working_dir: ".",
      query_auth_token_enabled: false,
    });
    expect(config.applications[0].import_path).toBe("builder:builder");
    expect(config.applications[0].args.llm_config.model_loading_config.model_id).toBe("m");
  });

  it("writes the image definitions with the plan's FROM and ENV lines, in order", () => {
    const plan = scaling();
    expect(
      renderContainerfile(plan.images[1]!, plan.name),
    ).toBe(`# Rendered by orchestrate from plan "gptoss-120b" (image rayturbo-251, RayTurbo).
# Do not edit: change the plan and run \`orchestrate render\`.
FROM anyscale/ray-llm:2.51.0-py311-cu128

ENV ANYSCALE_RAY_SERVE_ENABLE_HA_PROXY=1
ENV RAY_SERVE_THROUGHPUT_OPTIMIZED=1
ENV ANYSCALE_RAY_SERVE_DIRECT_INGRESS_MIN_DRAINING_PERIOD_S=90
`);
  });

  it("refuses to render a secret into a file", () => {
    registerSecret("sk-very-secret-key");
    const plan = load(`
name: demo
model: { model_id: m, model_source: "s3://bucket?key=sk-very-secret-key" }
images: [{ name: oss, from: base }]
compute: { config: c }
`);
    expect(() => renderPlanFiles(plan, expandCells(plan))).toThrow(/would contain a secret/);
  });
});

describe("determinism", () => {
  it("renders byte-identical files from the same plan, whatever the order of its maps", () => {
    const a = load(`
name: demo
model: { model_id: m, engine_kwargs: { b: 1, a: 2, enable_prefix_caching: false } }
images: [{ name: oss, from: base }]
deploy: { tags: { z: "1", a: "2" } }
compute: { config: c }
`);
    const b = load(`
compute: { config: c }
deploy: { tags: { a: "2", z: "1" } }
images: [{ from: base, name: oss }]
model: { engine_kwargs: { enable_prefix_caching: false, a: 2, b: 1 }, model_id: m }
name: demo
`);
    const render = (plan: typeof a) =>
      renderPlanFiles(plan, expandCells(plan)).map((f) => `${f.path}\n${f.content}`);
    expect(render(a)).toEqual(render(b));
    expect(render(a)).toEqual(render(a));
  });

  it("writes only files whose content changed", async () => {
    const plan = scaling();
    const root = mkdtempSync(join(tmpdir(), "render-out-"));
    const files = renderPlanFiles(plan, expandCells(plan));
    expect((await writeRenderedFiles(root, files)).every((r) => r.status === "created")).toBe(true);
    expect((await writeRenderedFiles(root, files)).every((r) => r.status === "unchanged")).toBe(true);
    const path = join(root, files[2]!.path);
    writeFileSync(path, `${readFileSync(path, "utf8")}# edited by hand\n`);
    const statuses = (await writeRenderedFiles(root, files)).map((r) => r.status);
    expect(statuses.filter((s) => s === "updated")).toHaveLength(1);
    expect(readFileSync(path, "utf8")).toBe(files[2]!.content);
  });
});
