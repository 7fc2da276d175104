import type { Clock } from "../clock.js";
import { describeError, ExternalError, Interrupted } from "../errors.js";
import { cliCommand } from "../invocation.js";
import type { Cell } from "../plan/expand.js";
import { benchmarkLevels, type Plan } from "../plan/resolve.js";
import type { ImageRef } from "../render/service.js";
import { renderServiceConfig, serviceTags } from "../render/service.js";
import { serviceConfigYaml } from "../render/write.js";
import {
  judgeOwnership,
  NotOurService,
  type ServiceEndpoint,
  type ServiceStatus,
} from "../targets/target.js";
import {
  type CellStep,
  describeForeign,
  identityOf,
  type Journal,
  notOursEvent,
  ownerOf,
} from "./journal.js";
import type { BenchProgress, BenchRunner, BuildingTarget, ReadinessProbe } from "./ports.js";
import { lengthSeedOfRun, type RunFolder } from "./run-folder.js";
import { type PlanWorkloadFile, planWorkloadFile } from "./workload-file-check.js";

/**
 * One cell's steps — render, deploy, wait, ready, bench, teardown — each journaled before and
 * after, so a resumed run knows exactly where to pick up. No printing here: the pipeline shows
 * progress; this does the work.
 */
export interface CellRunnerContext {
  plan: Plan;
  cell: Cell;
  folder: RunFolder;
  journal: Journal;
  target: BuildingTarget;
  probe: ReadinessProbe;
  bench: BenchRunner;
  clock: Clock;
  imageRef: ImageRef;
  /** The plan file's folder: a relative working_dir means a folder beside the plan. */
  planDir: string;
  /** Aborted on the first Ctrl-C: stop, save, tear down. */
  graceful: AbortSignal;
  /** Aborted on the second Ctrl-C: cancel requests in flight, stop waiting for teardown to be confirmed. */
  urgent: AbortSignal;
  /** `--keep-services` overrides the plan's teardown policy. */
  keepServices: boolean;
  warn(message: string): void;
}

/** How often the name is looked up after a deploy before a TERMINATED answer is believed. */
const LOOKS_AFTER_DEPLOY = 3;

export type TeardownOutcome = "terminated" | "left_running" | "nothing_to_do" | "not_ours";

export class CellRunner {
  private endpoint: ServiceEndpoint | undefined;
  /** Set once any step fails; later steps (but teardown) are skipped. */
  failure: unknown;

  constructor(private readonly ctx: CellRunnerContext) {}

  get cell(): Cell {
    return this.ctx.cell;
  }

  private get state() {
    const found = this.ctx.journal.state.cells.find((c) => c.id === this.ctx.cell.id);
    if (!found) throw new Error(`cell ${this.ctx.cell.id} is not in the journal`);
    return found;
  }

  isDone(step: CellStep): boolean {
    return this.state.steps[step] === "done";
  }

  /** Runs a step with its journal entries; a failure is recorded, remembered and rethrown. */
  async runStep(step: CellStep, work: () => Promise<void>): Promise<void> {
    const { journal, cell } = this.ctx;
    await journal.append({ type: "step_started", cell: cell.id, step });
    try {
      // After Ctrl-C nothing new starts, but teardown still must.
      if (step !== "teardown") this.ctx.graceful.throwIfAborted();
      await work();
      await journal.append({ type: "step_done", cell: cell.id, step });
    } catch (error) {
      const interrupted = this.ctx.graceful.aborted;
      this.failure ??= interrupted ? new Interrupted("stopped by Ctrl-C") : error;
      const message = interrupted ? "interrupted" : describeError(error);
      await journal.append({ type: "step_failed", cell: cell.id, step, error: message });
      throw interrupted ? new Interrupted(`${cell.serviceName}: ${step} interrupted`) : error;
    }
  }

  /** Writes the service config this cell deploys into the run folder. */
  async render(): Promise<void> {
    const { plan, cell, folder, imageRef } = this.ctx;
    const config = renderServiceConfig(plan, cell, imageRef, {
      planDir: this.ctx.planDir,
      runId: folder.runId,
    });
    await folder.writeFile(folder.relativeConfigPath(cell.serviceName), serviceConfigYaml(config, plan.name));
  }

  /**
   * Observe, then act: an existing service of this name that this run did not start (or that is
   * not the one this run recorded) is someone else's, and deploying would roll it out to our
   * config; one this run started and that still runs (a resumed run) is reused. After the deploy,
   * the service's id and version are recorded: from then on only that service is ours.
   */
  async deploy(): Promise<void> {
    const { target, plan, cell, journal, folder, graceful } = this.ctx;
    const existing = await target.status(cell.serviceName, graceful);
    if (this.reusable(existing)) return;
    // Recorded before the call, so a crash between the two still leaves a trace to clean up.
    await journal.append({ type: "service_recorded", cell: cell.id, serviceName: cell.serviceName });
    await target.deploy(
      {
        serviceName: cell.serviceName,
        configPath: folder.relativeConfigPath(cell.serviceName),
        tags: serviceTags(plan, cell, folder.runId),
        ...(existing ? { observed: existing } : {}),
        buildsImage: this.ctx.imageRef.kind === "containerfile",
      },
      graceful,
    );
    const deployed = await this.lookUpDeployed();
    if (deployed?.id) {
      await journal.append({
        type: "service_identified",
        cell: cell.id,
        serviceName: cell.serviceName,
        serviceId: deployed.id,
        ...(deployed.versionId ? { versionId: deployed.versionId } : {}),
      });
    }
  }

  /**
   * Whether the service under the name is this run's own and still up (a resumed run reuses it);
   * throws when it is up but someone else's. False: there is nothing up to reuse, so deploy.
   */
  private reusable(existing: ServiceStatus | undefined): boolean {
    const { cell } = this.ctx;
    const state = this.state;
    if (state.foreignId) {
      throw new ExternalError(
        `service ${cell.serviceName} now belongs to someone else (${describeForeign(state)}); this run's service is gone and this cell cannot be resumed under that name`,
        {
          kind: "not_ours",
          hint: "start a new run, or set deploy.service_prefix in the plan to use other names",
        },
      );
    }
    if (!existing || existing.state === "TERMINATED") return false;
    const ours =
      state.service === "deployed" && judgeOwnership(existing, identityOf(state)).kind !== "not_ours";
    if (!ours) {
      const where = [
        existing.id ? `id ${existing.id}` : "",
        existing.project ? `project ${existing.project}` : "",
      ]
        .filter(Boolean)
        .join(", ");
      throw new ExternalError(
        `service ${cell.serviceName} already exists (${existing.state}${where ? `, ${where}` : ""}) and this run did not start it`,
        {
          kind: "validation",
          hint: `terminate it first, or set deploy.service_prefix in the plan to use other names${this.ctx.plan.deploy.project ? "" : "; names are unique per project only, so if it is in another project, set deploy.project"}`,
        },
      );
    }
    return existing.state === "RUNNING" || existing.state === "STARTING" || existing.state === "UPDATING";
  }

  /**
   * The service the name answers with right after our deploy: normally ours, and not TERMINATED.
   * Names are unique per project only, so an older same-named service in another project (even a
   * terminated one) may answer instead when the plan names no project; then ours is out of reach
   * of every lookup by name. A TERMINATED answer that stays so for a few polls is taken as that,
   * recorded as a service left running, and never as ours.
   */
  private async lookUpDeployed(): Promise<ServiceStatus | undefined> {
    const { target, plan, cell, journal, clock, graceful } = this.ctx;
    for (let look = 1; ; look++) {
      const status = await target.status(cell.serviceName, graceful);
      if (status?.state !== "TERMINATED") return status;
      if (look >= LOOKS_AFTER_DEPLOY) {
        const scope = plan.deploy.project ? `project ${plan.deploy.project}` : "your default project";
        const reason = `the deploy was accepted, but the name answers with a TERMINATED service${status.id ? ` (id ${status.id}${status.project ? `, project ${status.project}` : ""})` : ""}: this run's service is probably running in ${scope}, out of reach of a lookup by name`;
        await journal.append({
          type: "service_left_running",
          cell: cell.id,
          serviceName: cell.serviceName,
          reason,
          accidental: true,
        });
        throw new ExternalError(`${cell.serviceName}: ${reason}`, {
          kind: "validation",
          hint: `terminate it in the Anyscale console or with \`anyscale service terminate\` in ${scope}; then set deploy.project in the plan (names are unique per project only)`,
        });
      }
      await clock.sleep(plan.deploy.poll_interval_s * 1000, graceful);
    }
  }

  async waitReady(): Promise<void> {
    const { target, cell, plan, clock, graceful } = this.ctx;
    const deadline = clock.now() + plan.deploy.ready_timeout_s * 1000;
    this.endpoint = await target.waitReady(cell.serviceName, deadline, graceful);
  }

  /** The service answers like an LLM service should: the model is listed and completes a prompt. */
  async checkReady(): Promise<string> {
    const endpoint = this.requireEndpoint();
    return this.ctx.probe.check(endpoint, this.ctx.plan.model.model_id, this.ctx.graceful);
  }

  async bench(onProgress: (p: BenchProgress) => void): Promise<void> {
    const { plan, cell, folder, journal, bench, graceful } = this.ctx;
    const b = plan.benchmark;
    const request: Parameters<BenchRunner["run"]>[0] = {
      endpoint: this.requireEndpoint(),
      modelId: plan.model.model_id,
      expDir: folder.cellDir(cell.serviceName),
      clients: cell.scale.clients,
      mode: b.mode,
      levels: benchmarkLevels(b).levels,
      inputTokens: b.input_tokens,
      outputTokens: b.output_tokens,
      apiEndpoint: b.endpoint,
      lengthSeed: lengthSeedOfRun(b.seed, folder.runId),
      ...(b.tokenizer ? { tokenizer: b.tokenizer } : {}),
      promptsPerConcurrency: b.prompts_per_concurrency,
      numPrompts: b.num_prompts,
      repeats: b.repeats,
      ...(b.repeats_target
        ? { repeatsTarget: { min: b.repeats_target.min, targetCi: b.repeats_target.target_ci } }
        : {}),
      arrival: b.arrival,
      burstiness: b.burstiness,
      promptFormat: b.prompt_format,
      ...workloadFileRequest(planWorkloadFile(plan, this.ctx.planDir)),
      requestTimeoutS: b.request_timeout_s,
      labels: {
        image: cell.image.name,
        runtime: cell.image.runtime,
        scale: cell.scale.replicas,
        cell: cell.id,
      },
    };
    if (b.duration_s !== undefined) request.durationS = b.duration_s;
    if (b.warmup_requests !== undefined) request.warmup = b.warmup_requests;
    if (b.seed !== undefined) request.seed = b.seed;
    if (b.slo) {
      request.slo = {};
      if (b.slo.ttft_ms !== undefined) request.slo.ttftMs = b.slo.ttft_ms;
      if (b.slo.tpot_ms !== undefined) request.slo.tpotMs = b.slo.tpot_ms;
      if (b.slo.e2el_ms !== undefined) request.slo.e2elMs = b.slo.e2el_ms;
    }
    // Journal each level as it completes (in order), so a crash mid-benchmark loses only that level.
    let journaled = Promise.resolve();
    try {
      await bench.run(request, {
        signal: graceful,
        urgentSignal: this.ctx.urgent,
        onProgress,
        onLevelDone: (level) => {
          journaled = journaled.then(() => journal.append({ type: "level_done", cell: cell.id, level }));
        },
      });
    } finally {
      await journaled;
    }
    await this.saveServerStats();
  }

  /** Keeps the server's own account of the benchmark beside the client's, where there is one. */
  private async saveServerStats(): Promise<void> {
    const { target, cell, folder } = this.ctx;
    if (!target.serverStats) return;
    try {
      const stats = await target.serverStats(cell.serviceName);
      if (stats !== undefined) {
        await folder.writeFile(`cells/${cell.serviceName}/server-stats.json`, `${JSON.stringify(stats)}\n`);
      }
    } catch (error) {
      this.ctx.warn(`${cell.serviceName}: could not save the server's statistics: ${describeError(error)}`);
    }
  }

  /** Applies the teardown policy; with "always", also after a failure or Ctrl-C. */
  async teardown(): Promise<TeardownOutcome> {
    const { plan, cell, journal, target, clock, urgent, keepServices } = this.ctx;
    if (this.state.service !== "deployed") return "nothing_to_do";
    const succeeded = this.failure === undefined;
    const policy = keepServices ? "never" : plan.teardown;
    const interrupted = this.ctx.graceful.aborted;
    if (policy === "never" || (policy === "on-success" && !succeeded && !interrupted)) {
      const reason =
        policy === "never"
          ? keepServices
            ? "--keep-services"
            : "teardown: never"
          : "teardown: on-success, and the cell failed";
      await journal.append({
        type: "service_left_running",
        cell: cell.id,
        serviceName: cell.serviceName,
        reason,
      });
      return "left_running";
    }
    const ownership = ownerOf(this.state);
    const deadline = clock.now() + plan.deploy.terminate_timeout_s * 1000;
    try {
      if (urgent.aborted && target.sendTerminate) {
        // A second Ctrl-C: send terminate, but do not wait for it to be confirmed.
        await target.sendTerminate(cell.serviceName, ownership);
        this.ctx.warn(
          `terminate sent for ${cell.serviceName} but not confirmed (second Ctrl-C); check it with \`${cliCommand("status", this.ctx.folder.dir)}\``,
        );
        return "terminated";
      }
      await target.terminate(cell.serviceName, deadline, urgent, ownership);
    } catch (error) {
      if (error instanceof NotOurService) {
        await journal.append(notOursEvent(this.state, error));
        this.ctx.warn(error.message);
        return "not_ours";
      }
      if (urgent.aborted) {
        this.ctx.warn(
          `${cell.serviceName}: termination not confirmed (second Ctrl-C): ${describeError(error).split("\n")[0]}`,
        );
        return "terminated";
      }
      throw error;
    }
    await journal.append({ type: "service_terminated", cell: cell.id, serviceName: cell.serviceName });
    return "terminated";
  }

  private requireEndpoint(): ServiceEndpoint {
    if (!this.endpoint) throw new Error(`no endpoint for ${this.ctx.cell.serviceName}: wait did not run`);
    return this.endpoint;
  }
}

function workloadFileRequest(file: PlanWorkloadFile | undefined): Partial<Parameters<BenchRunner["run"]>[0]> {
  if (!file) return {};
  return {
    workloadFile: file.spec,
    ...(file.maxModelLen !== undefined ? { maxModelLen: file.maxModelLen } : {}),
  };
}
