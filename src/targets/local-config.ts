/**
 * Reads a rendered Anyscale service config (the same file the anyscale target deploys) and turns
 * the part the simulator can express into simulator settings, so a local run rehearses the real
 * files: LLM and ingress replica counts, the model id, vLLM engine arguments, Ray Serve's
 * stream batching and queue limits, auth, and the image's runtime switches (its Containerfile's
 * ENV lines) through the runtime profile.
 *
 * Only the keys read here are validated; everything else a real config carries (compute config,
 * cloud, working_dir …) is accepted and ignored, since it means nothing on a laptop.
 */
import { readFile } from "node:fs/promises";
import { basename, resolve } from "node:path";
import { isMap, parseDocument } from "yaml";
import { z } from "zod";
import { UserError } from "../errors.js";
import type { SimConfigInput } from "../sim/config.js";
import { type RuntimeProfile, runtimeProfile } from "../sim/runtime-profile.js";

const count = z.number().int().positive();
const Autoscaling = z.looseObject({
  min_replicas: z.number().int().nonnegative().optional(),
  max_replicas: z.number().int().nonnegative().optional(),
});

const LlmConfig = z.looseObject({
  model_loading_config: z.looseObject({ model_id: z.string().min(1) }),
  deployment_config: z
    .looseObject({
      num_replicas: z.union([count, z.literal("auto")]).optional(),
      autoscaling_config: Autoscaling.optional(),
      max_ongoing_requests: count.optional(),
      max_queued_requests: z.number().int().min(-1).optional(),
    })
    .optional(),
  engine_kwargs: z
    .looseObject({
      max_num_seqs: count.optional(),
      max_num_batched_tokens: count.optional(),
      max_model_len: count.optional(),
      enable_prefix_caching: z.boolean().optional(),
      block_size: count.optional(),
    })
    .optional(),
  experimental_configs: z
    .looseObject({
      stream_batching_interval_ms: z.number().nonnegative().optional(),
      num_ingress_replicas: count.optional(),
      num_router_replicas: count.optional(),
    })
    .optional(),
});

const ServiceConfig = z.looseObject({
  name: z.string().optional(),
  image_uri: z.string().min(1).optional(),
  containerfile: z.string().min(1).optional(),
  query_auth_token_enabled: z.boolean().optional(),
  applications: z
    .array(
      z.looseObject({
        args: z.looseObject({
          llm_configs: z.array(LlmConfig).min(1, "needs one LLM config"),
          ingress_deployment_config: z
            .looseObject({ num_replicas: count.optional(), autoscaling_config: Autoscaling.optional() })
            .optional(),
        }),
      }),
    )
    .min(1, "needs one application"),
});

export interface LocalServiceSpec {
  /** Settings for the simulator (no token: the target makes one). */
  sim: SimConfigInput;
  authEnabled: boolean;
  /** Where the runtime switches came from, and what they were. */
  image: { source: string; env: Record<string, string> };
  profile: RuntimeProfile;
}

/**
 * Reads and validates `configPath`. Relative `containerfile:` paths resolve against `cwd`, as the
 * anyscale CLI resolves them against the directory it runs in.
 */
export async function readLocalServiceSpec(
  configPath: string,
  cwd = process.cwd(),
): Promise<LocalServiceSpec> {
  const text = await readText(configPath, "service config");
  const document = parseDocument(text);
  if (document.errors.length > 0) {
    throw new UserError(`${configPath} is not valid YAML`, {
      details: document.errors.map((error) => {
        const at = error.linePos?.[0];
        const message = (error.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, "");
        return `• ${at ? `${at.line}:${at.col}: ` : ""}${message}`;
      }),
    });
  }
  if (!isMap(document.contents))
    throw new UserError(`${configPath} must be a YAML mapping (a service config)`);
  const parsed = ServiceConfig.safeParse(document.toJS());
  if (!parsed.success) {
    throw new UserError(`${configPath} is not a service config the local target can run`, {
      details: parsed.error.issues.map(
        (issue) => `• ${issue.path.join(".") || "(top level)"}: ${issue.message}`,
      ),
    });
  }
  const config = parsed.data;
  const problems: string[] = [];
  const app = config.applications[0]!.args;
  if (config.applications.length > 1)
    problems.push("• applications: the local target runs one application per service");
  if (app.llm_configs.length > 1) {
    problems.push("• applications.0.args.llm_configs: the local target simulates one model per service");
  }
  const llm = app.llm_configs[0]!;
  const base = "applications.0.args.llm_configs.0.deployment_config";
  const replicas = replicaCount(llm.deployment_config, base, problems);
  const ingressReplicas =
    replicaCount(
      app.ingress_deployment_config,
      "applications.0.args.ingress_deployment_config",
      problems,
      true,
    ) ??
    llm.experimental_configs?.num_ingress_replicas ??
    llm.experimental_configs?.num_router_replicas;
  if (config.image_uri && config.containerfile)
    problems.push("• image_uri, containerfile: give one of them, not both");
  if (problems.length > 0) throw new UserError(`${configPath} cannot be simulated`, { details: problems });

  const image = await imageEnv(config, configPath, cwd);
  const profile = runtimeProfile(image.env);
  const engine = llm.engine_kwargs ?? {};
  const sim: SimConfigInput = {
    model: llm.model_loading_config.model_id,
    replicas,
    // Ray before 2.51 derived the ingress as 2 × LLM replicas; so does the simulator's default.
    ingress_replicas: ingressReplicas,
    profile: profile.name,
    ingress: profile.ingress,
    engine: {
      max_num_seqs: engine.max_num_seqs,
      max_num_batched_tokens: engine.max_num_batched_tokens,
      max_model_len: engine.max_model_len,
      kv_cache_tokens:
        engine.max_model_len && engine.max_model_len > 524_288 ? engine.max_model_len : undefined,
      block_size: engine.block_size,
      // vLLM's V1 engine caches prefixes unless told not to.
      enable_prefix_caching: engine.enable_prefix_caching ?? true,
      // Ray Serve LLM's stream batcher defaults to 50 ms.
      stream_batching_interval_ms: llm.experimental_configs?.stream_batching_interval_ms ?? 50,
      max_ongoing_requests: llm.deployment_config?.max_ongoing_requests,
      max_queued_requests: llm.deployment_config?.max_queued_requests,
    },
  };
  return { sim, authEnabled: config.query_auth_token_enabled ?? true, image, profile };
}

function replicaCount(
  deployment: { num_replicas?: number | "auto"; autoscaling_config?: { min_replicas?: number } } | undefined,
  path: string,
  problems: string[],
  optional = false,
): number | undefined {
  const fixed = deployment?.num_replicas;
  if (typeof fixed === "number") return fixed;
  const min = deployment?.autoscaling_config?.min_replicas;
  if (min === undefined) {
    if (!optional) {
      problems.push(
        `• ${path}.autoscaling_config.min_replicas: missing (or set ${path}.num_replicas): the local target starts that many replicas`,
      );
    }
    return undefined;
  }
  if (min === 0) {
    problems.push(
      `• ${path}.autoscaling_config.min_replicas: 0 scales to zero; the local target needs at least 1`,
    );
    return undefined;
  }
  return min;
}

async function imageEnv(
  config: { image_uri?: string; containerfile?: string },
  configPath: string,
  cwd: string,
): Promise<{ source: string; env: Record<string, string> }> {
  if (config.containerfile) {
    const path = resolve(cwd, config.containerfile);
    const text = await readText(
      path,
      `containerfile of ${configPath}`,
      "paths resolve against the directory you run in, as the anyscale CLI does",
    );
    return { source: path, env: parseContainerfileEnv(text) };
  }
  if (config.image_uri) {
    // No registry here: look for this repo's rendered definition of the image, by its name.
    const name = imageName(config.image_uri);
    const guess = resolve(cwd, "images", name, "Containerfile");
    try {
      return { source: guess, env: parseContainerfileEnv(await readFile(guess, "utf8")) };
    } catch {
      return { source: config.image_uri, env: {} };
    }
  }
  return { source: "(default image)", env: {} };
}

/** `anyscale/image/rayoss-251:3` → `rayoss-251`; `registry/x/ray-llm:2.51` → `ray-llm`. */
export function imageName(uri: string): string {
  const last = basename(uri);
  return last.split(/[:@]/)[0] ?? last;
}

/**
 * The variables a Containerfile sets with ENV, in both forms (`ENV K=V K2="v 2"` and the legacy
 * `ENV K V`), with line continuations. Later lines win, as in a build.
 */
export function parseContainerfileEnv(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  const lines = text.replace(/\\\r?\n/g, " ").split(/\r?\n/);
  for (const raw of lines) {
    const match = /^\s*ENV\s+(.*)$/i.exec(raw);
    if (!match) continue;
    const rest = match[1]!.trim();
    // Docker's rule: when the first word has no "=", the line is the legacy `ENV KEY value` form.
    if (!(rest.split(/\s+/)[0] ?? "").includes("=")) {
      const legacy = /^(\S+)\s+(.*)$/.exec(rest);
      if (legacy) env[legacy[1]!] = unquote(legacy[2]!.trim());
      continue;
    }
    for (const pair of rest.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g)) {
      env[pair[1]!] = unquote(pair[2]!);
    }
  }
  return env;
}

function unquote(value: string): string {
  if (
    value.length >= 2 &&
    ((value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'")))
  ) {
    return value.slice(1, -1).replace(/\\(.)/g, "$1");
  }
  return value;
}

async function readText(path: string, what: string, hint?: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(
      `cannot read the ${what} ${path}${code === "ENOENT" ? ": no such file" : `: ${code}`}`,
      {
        cause: error,
        hint,
      },
    );
  }
}
