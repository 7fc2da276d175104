import { lengthText } from "../model/lengths.js";
import { type CellTime, estimatePlan, type PlanEstimate } from "../plan/estimate.js";
import type { Cell } from "../plan/expand.js";
import type { Plan } from "../plan/resolve.js";
import {
  ANYSCALE_BIN,
  deployArgs,
  imageBuildArgs,
  shellQuote,
  statusArgs,
  terminateArgs,
} from "../targets/anyscale-commands.js";
import { containerfilePath } from "./image.js";
import { serviceTags } from "./service.js";

/**
 * What a run will do, step by step, with the exact commands. `run --dry-run` and `render` print
 * it; the pipeline issues the same commands (built by the same functions), in the same order.
 */

export type StepName = "preflight" | "build" | "render" | "deploy" | "wait" | "ready" | "bench" | "teardown";

export interface PlannedStep {
  step: StepName;
  /** The command line, when the step runs one (argv, binary first). */
  command?: string[];
  /** What the step does, in words. */
  note: string;
}

export interface PlannedCell {
  cell: Cell;
  steps: PlannedStep[];
}

export interface RunPreview {
  planName: string;
  target: Plan["target"];
  /** Checks made before the run folder is created (none for a local plan). */
  preflight: PlannedStep[];
  builds: PlannedStep[];
  cells: PlannedCell[];
  estimate: PlanEstimate;
  teardown: Plan["teardown"];
  /** Things a reader of the dry run should know before spending money. */
  notes: string[];
}

/** `predicted`: each cell's benchmark time from `predict`, for the estimate. */
export function previewRun(
  plan: Plan,
  cells: readonly Cell[],
  runId = "<run-id>",
  predicted?: readonly CellTime[],
): RunPreview {
  const builds: PlannedStep[] = [];
  if (plan.target === "anyscale") {
    for (const image of plan.images) {
      const used = cells.filter((c) => c.image.name === image.name).length;
      if (used === 0 || image.image_uri || image.build !== "image-build") continue;
      builds.push({
        step: "build",
        command: [ANYSCALE_BIN, ...imageBuildArgs(image, containerfilePath(image))],
        note: `build image ${image.name} once; its URI is used for ${used} ${used === 1 ? "scale" : "scales"}`,
      });
    }
  }
  const preflight: PlannedStep[] =
    plan.target === "anyscale"
      ? [
          {
            step: "preflight",
            command: [ANYSCALE_BIN, "--version"],
            note: "before anything is created: the CLI answers (its version goes into setup.json), and has credentials (ANYSCALE_CLI_TOKEN or ~/.anyscale/credentials.json)",
          },
        ]
      : [];
  return {
    planName: plan.name,
    target: plan.target,
    preflight,
    builds,
    cells: cells.map((cell) => ({ cell, steps: cellSteps(plan, cell, runId) })),
    estimate: estimatePlan(plan, cells, predicted),
    teardown: plan.teardown,
    notes: previewNotes(plan),
  };
}

function previewNotes(plan: Plan): string[] {
  const notes: string[] = [];
  if (plan.target === "anyscale" && !plan.compute.config && !plan.compute.instance_type) {
    notes.push(
      "note: the plan has no compute section, so Anyscale uses the cloud's default compute config; make sure it has the GPUs the replicas need",
    );
  }
  if (plan.target === "anyscale" && !plan.deploy.project) {
    notes.push(
      "note: the plan names no deploy.project; service names are unique per project only, so a same-named service in another project may answer the lookups; set deploy.project on a shared organization",
    );
  }
  if (plan.model.prefix_caching) {
    notes.push(
      "note: prefix caching is ON (model.allow_prefix_caching); cache hits confound scaling, and the report will say so",
    );
  }
  return notes;
}

function cellSteps(plan: Plan, cell: Cell, runId: string): PlannedStep[] {
  const name = cell.serviceName;
  const config = `configs/${name}.yaml`;
  const { deploy } = plan;
  const imageNote = cell.image.image_uri
    ? `image ${cell.image.image_uri}`
    : cell.image.build === "containerfile" || plan.target === "local"
      ? `containerfile ${containerfilePath(cell.image)}`
      : `the URI built for ${cell.image.name}`;
  const steps: PlannedStep[] = [
    { step: "render", note: `write ${config} (${imageNote}) into the run folder` },
  ];
  if (plan.target === "anyscale") {
    const scope = { cloud: deploy.cloud, project: deploy.project };
    steps.push(
      {
        step: "deploy",
        command: [ANYSCALE_BIN, ...statusArgs(name, scope)],
        note: "first look: a service of this name that this run did not start is refused, not rolled over",
      },
      {
        step: "deploy",
        command: [ANYSCALE_BIN, ...deployArgs(config, name, serviceTags(plan, cell, runId))],
        note: buildsAtDeploy(plan, cell)
          ? `builds the image from its Containerfile first and blocks until it is built (at most ${minutes(Math.max(deploy.ready_timeout_s, deploy.cli_timeout_s))}), then returns once accepted; never sent twice while a build may run`
          : "returns once accepted; the service id and version it creates are recorded: only that service is ours",
      },
      {
        step: "wait",
        command: [ANYSCALE_BIN, ...statusArgs(name, scope)],
        note:
          `every ${deploy.poll_interval_s} s until RUNNING, for at most ${minutes(deploy.ready_timeout_s)}; ` +
          `fails at once on SYSTEM_FAILURE or TERMINATED, and on UNHEALTHY lasting over ${minutes(deploy.unhealthy_grace_s)}`,
      },
    );
  } else {
    steps.push(
      {
        step: "deploy",
        note: `start the simulator for ${config}: ${cell.scale.replicas} LLM ${plural(cell.scale.replicas, "replica")}, ${cell.scale.ingress_replicas} ingress, on 127.0.0.1`,
      },
      { step: "wait", note: `until it reports healthy, for at most ${minutes(deploy.ready_timeout_s)}` },
    );
  }
  steps.push(
    {
      step: "ready",
      note: `GET /v1/models must list ${plan.model.model_id}; then one streamed smoke completion`,
    },
    { step: "bench", command: benchCommand(plan, cell, runId), note: benchNote(plan, cell) },
  );
  steps.push(...teardownSteps(plan, name));
  return steps;
}

/** The config names a Containerfile, and Anyscale builds it inside `service deploy`. */
export function buildsAtDeploy(plan: Plan, cell: Cell): boolean {
  return plan.target === "anyscale" && !cell.image.image_uri && cell.image.build === "containerfile";
}

/** In the dry run, where the id a deploy creates stands in the terminate command. */
export const SERVICE_ID_PLACEHOLDER = "<service-id>";

function teardownSteps(plan: Plan, name: string): PlannedStep[] {
  const policy =
    plan.teardown === "always"
      ? "always, also when the cell fails or on Ctrl-C"
      : plan.teardown === "on-success"
        ? "only when the cell succeeds (a failed service is left up for debugging)"
        : "never (teardown: never): the service stays up and keeps costing money";
  if (plan.target === "local") return [{ step: "teardown", note: `stop the simulator: ${policy}` }];
  const scope = { cloud: plan.deploy.cloud, project: plan.deploy.project };
  return [
    {
      step: "teardown",
      command: [ANYSCALE_BIN, ...terminateArgs({ name, id: SERVICE_ID_PLACEHOLDER })],
      note: `${policy}; by the id recorded at deploy, and only while the service under the name still has the recorded id and version`,
    },
    {
      step: "teardown",
      command: [ANYSCALE_BIN, ...statusArgs(name, scope)],
      note: `until TERMINATED, for at most ${minutes(plan.deploy.terminate_timeout_s)}: an exit code 0 from terminate proves nothing`,
    },
  ];
}

/** The standalone command that measures the same thing, so a cell can be re-run by hand. */
export function benchCommand(plan: Plan, cell: Cell, runId: string): string[] {
  const b = plan.benchmark;
  const args = [
    "orchestrate",
    "bench",
    cell.serviceName,
    "--results-dir",
    `results/${runId}/cells`,
    "-u",
    "<query_url>",
  ];
  args.push("-s", String(cell.scale.clients), "-t", b.mode);
  if (b.mode === "concurrency") args.push("-c", b.concurrency.join(","));
  else if (b.mode === "replay" && b.replay)
    args.push("--trace", b.replay.path, "--speed", b.replay.speeds.join(","));
  else args.push("-r", b.request_rates.join(","));
  if (b.dataset) args.push("--dataset", b.dataset.path, "--dataset-format", b.dataset.format);
  // A trace gives every request its lengths; a dataset's rows without output_tokens get --output-len.
  if (b.mode !== "replay") args.push("--input-len", lengthText(b.input_tokens));
  if (b.mode !== "replay") args.push("--output-len", lengthText(b.output_tokens));
  if (b.endpoint !== "completions") args.push("--endpoint", b.endpoint);
  if (b.tokenizer) args.push("--tokenizer", b.tokenizer);
  if (b.duration_s !== undefined) args.push("--duration", String(b.duration_s));
  else if (b.mode === "request-rate") args.push("--num-prompts", String(b.num_prompts));
  else if (b.prompts_per_concurrency !== 10)
    args.push("--prompts-per-concurrency", String(b.prompts_per_concurrency));
  if (b.warmup_requests !== undefined) args.push("--warmup", String(b.warmup_requests));
  if (b.repeats > 1) args.push("--repeats", String(b.repeats));
  if (b.repeats_target)
    args.push(
      "--target-ci",
      String(b.repeats_target.target_ci),
      "--repeats-min",
      String(b.repeats_target.min),
    );
  if (b.mode === "request-rate" && b.arrival !== "poisson") args.push("--arrival", b.arrival);
  if (b.arrival === "gamma") args.push("--burstiness", String(b.burstiness));
  if (b.seed !== undefined) args.push("--seed", String(b.seed));
  if (b.prompt_format !== (b.endpoint === "chat" ? "text" : "token-ids"))
    args.push("--prompt-format", b.prompt_format);
  if (b.slo) {
    const slo = Object.entries({ ttft: b.slo.ttft_ms, tpot: b.slo.tpot_ms, e2el: b.slo.e2el_ms })
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}:${v}`);
    args.push("--goodput", slo.join(","));
  }
  return args;
}

function benchNote(plan: Plan, cell: Cell): string {
  const b = plan.benchmark;
  if (b.mode === "replay") return replayNote(plan, cell);
  const levels = b.mode === "concurrency" ? b.concurrency : b.request_rates;
  const perLevel =
    b.duration_s !== undefined
      ? `${b.duration_s} s per level`
      : b.mode === "concurrency"
        ? `${b.prompts_per_concurrency} × concurrency requests per client and level`
        : `${b.num_prompts} requests per client and level`;
  const warmup =
    b.warmup_requests === undefined
      ? b.mode === "concurrency"
        ? ", after a warm-up wave of concurrency requests"
        : ""
      : b.warmup_requests > 0
        ? `, after ${b.warmup_requests} warm-up ${plural(b.warmup_requests, "request")}`
        : "";
  const repeats = b.repeats > 1 ? `, the whole sweep ${b.repeats} times` : "";
  return `${cell.scale.clients} synchronized ${plural(cell.scale.clients, "client")}, ${levels.length} levels, ${perLevel}${warmup}${repeats}`;
}

/** How the clients share the trace, said where the dry run shows the command. */
function replayNote(plan: Plan, cell: Cell): string {
  const n = cell.scale.clients;
  const speeds = plan.benchmark.replay?.speeds ?? [];
  return (
    `${n} synchronized ${plural(n, "client")} together replay ${plan.benchmark.replay?.path} (beside the plan) once per speed (${speeds.map((s) => `×${s}`).join(", ")}): ` +
    `row i goes to client (i mod ${n}) + 1 and is sent at its timestamp ÷ (speed × ${n}), so together they send every row once at ${n} × speed × the trace's rate`
  );
}

export function formatPreview(preview: RunPreview): string {
  const out: string[] = [];
  const { estimate } = preview;
  out.push(
    `Plan ${preview.planName}: ${preview.cells.length} ${plural(preview.cells.length, "cell")} on the ${preview.target} target, run in this order.`,
  );
  if (preview.target === "anyscale") {
    out.push("Commands run in the run folder (results/<run-id>/), where configs/ and images/ are rendered.");
  }
  for (const check of preview.preflight) {
    out.push("", `preflight ${shellQuote(check.command ?? [])}`, `          ${check.note}`);
  }
  for (const build of preview.builds) {
    out.push("", `build     ${shellQuote(build.command ?? [])}`, `          ${build.note}`);
  }
  preview.cells.forEach(({ cell, steps }, i) => {
    const size =
      cell.workerNodes !== undefined
        ? `, ${cell.workerNodes} worker ${plural(cell.workerNodes, "node")}`
        : "";
    out.push(
      "",
      `[${i + 1}/${preview.cells.length}] ${cell.serviceName}  (image ${cell.image.name} · ${cell.image.runtime}; ` +
        `${cell.scale.replicas} LLM ${plural(cell.scale.replicas, "replica")} = ${cell.gpus} ${plural(cell.gpus, "GPU")}${size}; ` +
        `${cell.scale.ingress_replicas} ingress; ${cell.scale.clients} ${plural(cell.scale.clients, "client")})`,
    );
    for (const step of steps) {
      out.push(`  ${step.step.padEnd(9)}${step.command ? shellQuote(step.command) : step.note}`);
      if (step.command) out.push(`  ${"".padEnd(9)}${step.note}`);
    }
  });
  out.push("", formatEstimate(estimate));
  out.push(...preview.notes);
  if (preview.teardown === "never") {
    out.push("WARNING: teardown: never — every service stays up after the run until you terminate it.");
  }
  return out.join("\n");
}

export function formatEstimate(estimate: PlanEstimate): string {
  return [
    formatTotals(estimate),
    ...(estimate.expected ? [formatExpected(estimate, estimate.expected)] : []),
  ].join("\n");
}

/** Repeats until sure: the estimate prices the most; this line, what the expected count costs. */
function formatExpected(estimate: PlanEstimate, e: NonNullable<PlanEstimate["expected"]>): string {
  const cost = e.costUsd !== undefined ? ` ≈ $${e.costUsd.toFixed(0)}` : "";
  const price =
    estimate.peakGpus === 0
      ? `about ${hours(e.totalMinutes)} of wall time`
      : `${e.gpuHours.toFixed(1)} GPU-hours${cost}, about ${hours(e.totalMinutes)} of wall time`;
  return (
    `Repeats until sure: each level runs ${e.min} to ${e.max} times; the estimate above prices ${e.max}. ` +
    `At a ${(e.expectedCv * 100).toFixed(0)}% between-repeat spread (benchmark.repeats.expected_cv) a level needs ${e.repeats}: ${price}.`
  );
}

function formatTotals(estimate: PlanEstimate): string {
  const assumptions = `  (assumes ${estimate.assumptions}; start-up and teardown are set under cost: in the plan)`;
  if (estimate.peakGpus === 0) {
    return `Estimate: no GPUs (the simulator stands in for them), about ${hours(estimate.totalMinutes)} of wall time.\n${assumptions}`;
  }
  const cost = estimate.costUsd !== undefined ? ` ≈ $${estimate.costUsd.toFixed(0)}` : "";
  return (
    `Estimate: ${estimate.gpuHours.toFixed(1)} GPU-hours${cost}, about ${hours(estimate.totalMinutes)} of wall time, ` +
    `at most ${estimate.peakGpus} GPUs at once.\n${assumptions}`
  );
}

function plural(n: number, word: string): string {
  return n === 1 ? word : `${word}s`;
}

function minutes(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`;
}

function hours(totalMinutes: number): string {
  if (totalMinutes < 1) return `${Math.max(1, Math.round(totalMinutes * 60))} s`;
  const h = Math.floor(totalMinutes / 60);
  const m = Math.round(totalMinutes - h * 60);
  return h > 0 ? `${h} h ${m} min` : `${m} min`;
}
