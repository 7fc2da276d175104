import { expandCells } from "../plan/expand.js";
import { loadPlan } from "../plan/load.js";
import { formatPrediction } from "./format.js";
import { predictPlanFromFiles } from "./predict.js";

/** `orchestrate predict PLAN [--profile FILE] [--json]`. */
export async function predictCommand(
  planPath: string,
  options: { profile?: string; json?: boolean },
): Promise<void> {
  const { plan } = loadPlan(planPath);
  const prediction = await predictPlanFromFiles(plan, expandCells(plan), options.profile);
  process.stdout.write(
    options.json ? `${JSON.stringify(prediction, null, 2)}\n` : `${formatPrediction(prediction)}\n`,
  );
}
