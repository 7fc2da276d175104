import { expandCells } from "../plan/expand.js";
import { loadPlan } from "../plan/load.js";
import { repeatsAdvice } from "../report/repeats-advice.js";
import type { Reporter } from "../reporter.js";
import { formatPrediction } from "./format.js";
import { predictPlanFromFiles } from "./predict.js";

export interface PredictOptions {
  profile?: string;
  json?: boolean;
}

/** `orchestrate predict PLAN [--profile FILE] [--json]`. */
export async function predictCommand(
  planPath: string,
  options: PredictOptions,
  reporter: Reporter,
): Promise<void> {
  const { plan } = loadPlan(planPath);
  const prediction = await predictPlanFromFiles(plan, expandCells(plan), options.profile);
  if (options.json) {
    reporter.result(JSON.stringify(prediction, null, 2));
    return;
  }
  reporter.result(`${formatPrediction(prediction)}\n\n${repeatsAdvice(plan.benchmark)}`);
}
