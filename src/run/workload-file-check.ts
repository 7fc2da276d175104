import { resolve } from "node:path";
import { meanLength } from "../model/lengths.js";
import type { Plan } from "../plan/resolve.js";
import { SIM_DEFAULT_MAX_MODEL_LEN } from "../sim/config.js";
import {
  scanWorkloadFile,
  type WorkloadFileRecord,
  type WorkloadFileSpec,
} from "../workloads/workload-file.js";

/**
 * The plan's dataset or trace, as the run reads it: the path joined to the plan's folder, and the
 * context length its rows must fit in.
 */

export interface PlanWorkloadFile {
  spec: WorkloadFileSpec;
  /**
   * model.engine_kwargs.max_model_len; on the local target the simulator's default when the plan
   * sets none. Absent on Anyscale without it: the engine's own limit is unknown here, and a row
   * beyond it fails at the server (a 400, counted as an error).
   */
  maxModelLen?: number;
}

export function planWorkloadFile(plan: Plan, planDir: string): PlanWorkloadFile | undefined {
  const b = plan.benchmark;
  const spec: WorkloadFileSpec | undefined =
    b.mode === "replay" && b.replay
      ? { kind: "trace", format: b.replay.format, path: resolve(planDir, b.replay.path) }
      : b.dataset
        ? { kind: "dataset", format: b.dataset.format, path: resolve(planDir, b.dataset.path) }
        : undefined;
  if (!spec) return undefined;
  const kwarg = plan.model.engine_kwargs.max_model_len;
  const maxModelLen =
    typeof kwarg === "number" ? kwarg : plan.target === "local" ? SIM_DEFAULT_MAX_MODEL_LEN : undefined;
  return { spec, ...(maxModelLen !== undefined ? { maxModelLen } : {}) };
}

/**
 * Reads the plan's dataset or trace whole (streamed) and checks every row, before a run starts
 * anything: a missing file, a bad line, an empty file or a row longer than the model's context
 * is a UserError naming the file and line.
 */
export async function checkPlanWorkloadFile(
  plan: Plan,
  planDir: string,
): Promise<WorkloadFileRecord | undefined> {
  const file = planWorkloadFile(plan, planDir);
  if (!file) return undefined;
  return scanWorkloadFile(file.spec, {
    // A number with a file: the plan check refuses a distribution beside a dataset or a trace.
    outputTokens: meanLength(plan.benchmark.output_tokens),
    ...(file.maxModelLen !== undefined ? { maxModelLen: file.maxModelLen } : {}),
  });
}

/** One line for the person starting the run: which file, how many rows, which version. */
export function describeWorkloadFile(file: WorkloadFileRecord): string {
  const what =
    file.kind === "trace"
      ? `trace: ${file.rows} requests over ${(file.duration_ms ?? 0) / 1000} s`
      : `dataset: ${file.rows} prompts${file.skipped ? ` (${file.skipped} rows skipped)` : ""}`;
  return `${what} in ${file.path} (${file.format}, sha256 ${file.sha256.slice(0, 12)}…, mean ${file.mean_input_tokens} in / ${file.mean_output_tokens} out tokens)`;
}
