import pRetry from "p-retry";
import { ExternalError } from "../errors.js";
import type { Plan } from "../plan/resolve.js";
import { hashString } from "../random.js";
import { AnyscaleTarget } from "../targets/anyscale.js";
import { execaRunner } from "../targets/anyscale-cli.js";
import { LocalTarget } from "../targets/local.js";
import type { TerminateOptions } from "../targets/target.js";
import type { BenchRunner, BuildingTarget, ReadinessProbe, ReportBuilder } from "./ports.js";
import type { RunFolder } from "./run-folder.js";

/**
 * The real implementations behind the pipeline's ports: the targets, the load generator
 * (src/bench), the readiness probe and the report (src/report). Imported lazily, so a dry run or
 * `status` loads none of the heavy modules.
 */

export function createTarget(plan: Plan, folder: RunFolder, log: (message: string) => void): BuildingTarget {
  if (plan.target === "local") {
    const noise = plan.local?.noise;
    const target = new LocalTarget({
      cwd: folder.dir,
      // Each service draws its own noise (seeded by its name), so scales do not share one pattern.
      ...(noise
        ? { serviceSimOverrides: (name: string) => ({ noise: { ...noise, seed: hashString(0, name) } }) }
        : {}),
      ...(plan.model.profile
        ? { profile: { path: plan.model.profile, speedup: plan.model.profile_speedup } }
        : {}),
      pollIntervalMs: Math.min(200, plan.deploy.poll_interval_s * 1000),
    });
    return Object.assign(target, {
      // A local service stops at once; there is nothing to confirm asynchronously.
      sendTerminate: (name: string, options: TerminateOptions = {}) =>
        target.terminate(name, Date.now() + 5_000, undefined, options),
    });
  }
  // A snapshot per state change, not per poll: a 45-minute wait would otherwise write hundreds.
  const lastState = new Map<string, string>();
  return new AnyscaleTarget({
    runner: execaRunner(),
    cwd: folder.dir,
    scope: { cloud: plan.deploy.cloud, project: plan.deploy.project },
    pollIntervalMs: plan.deploy.poll_interval_s * 1000,
    unhealthyGraceMs: plan.deploy.unhealthy_grace_s * 1000,
    cliTimeoutMs: plan.deploy.cli_timeout_s * 1000,
    // An image build (and a containerfile deploy) blocks until built; it may take as long as a
    // service takes to come up.
    buildTimeoutMs: plan.deploy.ready_timeout_s * 1000,
    retry: {
      retries: plan.deploy.retries,
      minTimeoutMs: plan.deploy.retry_min_s * 1000,
      maxTimeoutMs: plan.deploy.retry_max_s * 1000,
    },
    onStatus: (status, raw) => {
      if (lastState.get(status.name) === status.state) return;
      lastState.set(status.name, status.state);
      void folder.recordStatus(status.name, raw).catch(() => {});
    },
    onRetry: log,
  });
}

/**
 * RUNNING is not yet "answers": a proxy can still say 503 for a moment, so passing failures (5xx,
 * 429, refused or reset connections) are retried with backoff; a wrong model or a rejected request
 * fails at once.
 */
export const readinessProbe: ReadinessProbe = {
  check(endpoint, modelId, signal) {
    return pRetry(() => checkOnce(endpoint, modelId, signal), {
      retries: 6,
      minTimeout: 1_000,
      maxTimeout: 10_000,
      randomize: true,
      ...(signal ? { signal } : {}),
      shouldRetry: ({ error }) => error instanceof ExternalError && error.kind === "transient",
    });
  },
};

async function checkOnce(
  endpoint: Parameters<ReadinessProbe["check"]>[0],
  modelId: string,
  signal: AbortSignal | undefined,
): Promise<string> {
  const { listModels, smokeTest } = await import("../bench/api.js");
  const models = await listModels(endpoint.url, endpoint.token, signal);
  if (!models.includes(modelId)) {
    throw new ExternalError(
      `${endpoint.name} serves ${models.length === 0 ? "no model" : models.join(", ")}, not ${modelId}`,
      {
        kind: "bad_response",
        hint: "check model.model_id in the plan against the service's model_loading_config",
      },
    );
  }
  const smoke = await smokeTest({
    baseUrl: endpoint.url,
    ...(endpoint.token ? { token: endpoint.token } : {}),
    model: modelId,
    ...(signal ? { signal } : {}),
  });
  return `${modelId}: first token after ${smoke.ttftMs.toFixed(0)} ms, ${smoke.completionTokens} tokens`;
}

export const benchRunner: BenchRunner = {
  async run(request, hooks) {
    const { runBenchmark } = await import("../bench/coordinator.js");
    const options: Parameters<typeof runBenchmark>[0] = {
      baseUrl: request.endpoint.url,
      model: request.modelId,
      clients: request.clients,
      mode: request.mode,
      levels: request.levels,
      inputTokens: request.inputTokens,
      outputTokens: request.outputTokens,
      endpoint: request.apiEndpoint,
      ...(request.tokenizer ? { tokenizer: request.tokenizer } : {}),
      repeats: request.repeats,
      ...(request.repeatsTarget ? { repeatsTarget: request.repeatsTarget } : {}),
      // The bench tool spells the arrival process as burstiness: 1 Poisson, other gamma, ∞ constant.
      burstiness: request.arrival === "constant" ? Number.POSITIVE_INFINITY : request.burstiness,
      promptFormat: request.promptFormat,
      ...(request.workloadFile ? { workloadFile: request.workloadFile } : {}),
      ...(request.maxModelLen !== undefined ? { maxModelLen: request.maxModelLen } : {}),
      expDir: request.expDir,
      labels: request.labels,
      overwrite: "resume",
      timeouts: { requestMs: request.requestTimeoutS * 1000 },
    };
    if (request.endpoint.token) options.token = request.endpoint.token;
    if (request.durationS !== undefined) options.durationS = request.durationS;
    else if (request.mode === "request-rate") options.numPrompts = request.numPrompts;
    else if (request.mode === "concurrency") options.promptsPerConcurrency = request.promptsPerConcurrency;
    if (request.seed !== undefined) options.seed = request.seed;
    options.lengthSeed = request.lengthSeed;
    if (request.warmup !== undefined) options.warmup = request.warmup;
    if (request.slo) options.goodput = request.slo;
    await runBenchmark(options, {
      ...(hooks.signal ? { signal: hooks.signal } : {}),
      ...(hooks.urgentSignal ? { urgentSignal: hooks.urgentSignal } : {}),
      ...(hooks.onProgress ? { onProgress: hooks.onProgress } : {}),
      ...(hooks.onLevelDone ? { onLevelDone: (level: string) => hooks.onLevelDone?.(level) } : {}),
    });
  },
};

export const reportBuilder: ReportBuilder = {
  async build(runDir) {
    const { buildReport, loadReportSources } = await import("../report/index.js");
    const sources = await loadReportSources([runDir]);
    const files = await buildReport({
      experiments: sources.experiments,
      ...(sources.setup ? { setup: sources.setup } : {}),
      ...(sources.twin ? { twin: sources.twin } : {}),
      outDir: sources.defaultOutDir,
    });
    return { dir: files.outDir, answer: files.answer };
  },
};
