import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { appendFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { UserError } from "../errors.js";
import { writeFileAtomic, writeJsonAtomic } from "../fs-atomic.js";
import { existingFolder } from "../inputs.js";
import { cliCommand } from "../invocation.js";
import { describeLengths, meanLength } from "../model/lengths.js";
import type { RunSetup, WorkloadFileFacts } from "../model/types.js";
import { toolVersion } from "../paths.js";
import { benchmarkLevels, type Plan } from "../plan/resolve.js";
import { hashString } from "../random.js";
import { redact, redactValue } from "../secrets.js";
import { JOURNAL_FILE } from "./journal.js";

/**
 * A run folder, `results/<plan>-<timestamp>/`: everything a run needs to be resumed, audited and
 * reported, with nothing secret in it.
 *
 *   plan.json          the resolved plan (what the run executes)
 *   plan.source.yaml   the plan file as written
 *   setup.json         what the report says about the setup
 *   journal.jsonl      events; state.json the state derived from them; lock while a process owns it
 *   images/            Containerfiles; configs/ the service configs as deployed
 *   status/            redacted status snapshots, one line per state change
 *   cells/<service>/   one experiment folder per image × scale (the `bench` layout)
 *   report/            the scaling report
 */
export class RunFolder {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  get runId(): string {
    return this.dir.split(/[\\/]/).pop() ?? this.dir;
  }

  configPath(serviceName: string): string {
    return join(this.dir, "configs", `${serviceName}.yaml`);
  }

  /** As passed to the CLI, which runs inside the run folder. */
  relativeConfigPath(serviceName: string): string {
    return `configs/${serviceName}.yaml`;
  }

  cellDir(serviceName: string): string {
    return join(this.dir, "cells", serviceName);
  }

  get cellsDir(): string {
    return join(this.dir, "cells");
  }

  get reportDir(): string {
    return join(this.dir, "report");
  }

  /**
   * The resolved plan as the run stored it, with secrets masked: for reading what the run was
   * (status, teardown's timeouts), never for deploying (resume re-reads the plan file).
   */
  readPlan(): Plan {
    return JSON.parse(readFileSync(join(this.dir, "plan.json"), "utf8")) as Plan;
  }

  /**
   * Records in setup.json when the measurements ended, so the report (built next, and rebuilt any
   * time later) says when the run finished instead of "(not finished)". A resumed run moves it.
   */
  async markFinished(at: Date): Promise<void> {
    const path = join(this.dir, "setup.json");
    if (!existsSync(path)) return;
    const setup = JSON.parse(readFileSync(path, "utf8")) as RunSetup;
    await writeJsonAtomic(path, { ...setup, finishedAt: at.toISOString() });
  }

  async writeFile(relative: string, content: string): Promise<void> {
    await writeFileAtomic(join(this.dir, relative), redact(content));
  }

  /** One line per observed state change of a service, tokens masked. */
  async recordStatus(serviceName: string, raw: unknown): Promise<void> {
    mkdirSync(join(this.dir, "status"), { recursive: true });
    const line = JSON.stringify({ at: new Date().toISOString(), status: redactValue(raw) });
    await appendFile(join(this.dir, "status", `${serviceName}.jsonl`), `${line}\n`);
  }
}

/**
 * A run folder named on the command line (resume, teardown, status): checked before anything is
 * locked or read, so a plan file or a results folder given by mistake is told apart from a run.
 */
export function openRunFolder(dir: string): RunFolder {
  const expected = "a run folder, e.g. results/<plan>-<timestamp>";
  const listRuns = `${cliCommand("status")} lists the runs`;
  const isPlan = /\.ya?ml$/i.test(dir);
  existingFolder(dir, {
    what: expected,
    hint: isPlan ? `to start a run of this plan: ${cliCommand("run", dir)}; ${listRuns}` : listRuns,
  });
  if (!existsSync(join(dir, JOURNAL_FILE))) {
    throw new UserError(`${dir}: not a run folder (it has no ${JOURNAL_FILE}); expected ${expected}`, {
      hint: listRuns,
    });
  }
  return new RunFolder(dir);
}

/** Creates `<resultsDir>/<plan>-<YYYYMMDD-HHMMSS>` (with a suffix if that exists already). */
export async function createRunFolder(
  resultsDir: string,
  plan: Plan,
  planSource: string,
  now: Date = new Date(),
  facts: { anyscaleCli?: string; workloadFile?: WorkloadFileFacts } = {},
): Promise<RunFolder> {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  let dir = join(resultsDir, `${plan.name}-${stamp}`);
  for (let n = 2; existsSync(dir); n++) dir = join(resultsDir, `${plan.name}-${stamp}-${n}`);
  mkdirSync(dir, { recursive: true });
  const folder = new RunFolder(dir);
  await writeJsonAtomic(join(folder.dir, "plan.json"), redactValue(plan));
  await folder.writeFile("plan.source.yaml", planSource);
  const setup = runSetup(plan, now, folder.runId);
  if (facts.anyscaleCli) setup.anyscaleCli = facts.anyscaleCli;
  if (facts.workloadFile) setup.workload.file = facts.workloadFile;
  await writeJsonAtomic(join(folder.dir, "setup.json"), setup);
  return folder;
}

/**
 * Every cell of a run draws request lengths from one seed (the plan's, else one from the run's
 * id, which a resume keeps), so request i asks for the same lengths at 1x, 2x and 4x.
 */
export function lengthSeedOfRun(planSeed: number | undefined, runId: string): number {
  return planSeed ?? hashString(0, `lengths/${runId}`);
}

export function runSetup(plan: Plan, startedAt: Date, runId: string): RunSetup {
  const b = plan.benchmark;
  const where =
    plan.target === "local"
      ? `local simulator on ${hostname()}`
      : [
          plan.deploy.cloud && `cloud ${plan.deploy.cloud}`,
          plan.deploy.project && `project ${plan.deploy.project}`,
        ]
          .filter(Boolean)
          .join(", ") || "Anyscale (default cloud and project)";
  const setup: RunSetup = {
    planName: plan.name,
    target: plan.target,
    toolVersion: toolVersion(),
    startedAt: startedAt.toISOString(),
    linearityTolerance: plan.report.linearity_tolerance,
    where,
    model: {
      modelId: plan.model.model_id,
      modelSource: plan.model.model_source,
      tensorParallelSize: plan.model.tensor_parallel_size,
      engineKwargs: plan.model.engine_kwargs,
      prefixCaching: plan.model.prefix_caching,
      streamBatchingIntervalMs: plan.model.stream_batching_interval_ms,
    },
    images: plan.images.map((i) => ({ name: i.name, runtime: i.runtime, base: i.from, env: i.env })),
    scales: plan.scales.map((s) => ({
      replicas: s.replicas,
      clients: s.clients,
      ingressReplicas: s.ingress_replicas,
    })),
    workload: {
      mode: b.mode,
      levels: benchmarkLevels(b).levels,
      inputTokens: Math.round(meanLength(b.input_tokens)),
      outputTokens: Math.round(meanLength(b.output_tokens)),
      lengths: describeLengths(b.input_tokens, b.output_tokens, lengthSeedOfRun(b.seed, runId)),
      endpoint: b.endpoint,
      requestsPerLevel:
        b.duration_s !== undefined
          ? `${b.duration_s} s per level`
          : b.mode === "replay"
            ? "every row of the trace, dealt round-robin to the clients,"
            : b.mode === "concurrency"
              ? `${b.prompts_per_concurrency} × concurrency per client`
              : `${b.num_prompts} per client`,
    },
  };
  if (plan.model.accelerator_type) setup.model.acceleratorType = plan.model.accelerator_type;
  if (b.slo) {
    setup.workload.slo = {};
    if (b.slo.ttft_ms !== undefined) setup.workload.slo.ttftMs = b.slo.ttft_ms;
    if (b.slo.tpot_ms !== undefined) setup.workload.slo.tpotMs = b.slo.tpot_ms;
    if (b.slo.e2el_ms !== undefined) setup.workload.slo.e2elMs = b.slo.e2el_ms;
    if (b.slo.percentile !== undefined) setup.workload.slo.percentile = b.slo.percentile;
    if (b.slo.goodput_fraction !== undefined) setup.workload.slo.goodputFraction = b.slo.goodput_fraction;
    if (b.slo.target_rate !== undefined) setup.workload.slo.targetRate = b.slo.target_rate;
  }
  return setup;
}
