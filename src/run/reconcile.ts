import { describeError } from "../errors.js";
import { judgeOwnership, type NotOurService } from "../targets/target.js";
import {
  CELL_STEPS,
  type CellState,
  type CellStep,
  identityOf,
  type Journal,
  notOursEvent,
  ownerOf,
} from "./journal.js";
import type { BuildingTarget } from "./ports.js";

/**
 * Before a resumed run continues, compare what the journal says with what really exists, and
 * rewind each unfinished cell to the first step it must redo:
 *   - its service is running: keep it, but wait for it and check it again (to get its endpoint);
 *   - its service is gone (terminated, or a local service that died with its orchestrator): deploy again;
 *   - its service is in a failed state: terminate it, then deploy again;
 *   - a service of its name with another id or version than the ones recorded: someone else's;
 *     left alone, and the cell cannot go on under that name (its deploy step says so);
 *   - a step failed or was cut short: redo it.
 * Finished benchmark levels stay finished (the bench folder holds them).
 */
export async function reconcileWithReality(
  journal: Journal,
  target: BuildingTarget,
  terminateDeadline: () => number,
  log: (message: string) => void,
): Promise<void> {
  for (const cell of journal.state.cells) {
    if (cell.outcome === "succeeded" && cell.service !== "deployed") continue;
    let from = firstUnfinishedStep(cell);
    if (cell.service === "deployed" || cell.service === "left_running") {
      const status = await target.status(cell.serviceName);
      const ownership = judgeOwnership(status, identityOf(cell));
      if (ownership.kind === "not_ours") {
        await journal.append(notOursEvent(cell, ownership.error));
        log(`${cell.serviceName}: ${notOursLine(ownership.error, cell.serviceId)}`);
        if (cell.steps.bench !== "done") from = earliest(from, "deploy");
        if (from !== undefined)
          await journal.append({ type: "cell_reset", cell: cell.id, from, reason: "resume" });
        continue;
      }
      const state = status?.state ?? "ABSENT";
      await journal.append({ type: "service_observed", cell: cell.id, serviceName: cell.serviceName, state });
      const benchDone = cell.steps.bench === "done";
      if (state === "ABSENT" || state === "TERMINATED") {
        if (!benchDone) from = earliest(from, "deploy");
        log(
          `${cell.serviceName}: ${state === "ABSENT" ? "no longer exists" : "was terminated"}${benchDone ? "" : "; it will be deployed again"}`,
        );
      } else if (["RUNNING", "STARTING", "UPDATING", "ROLLING_OUT"].includes(state)) {
        if (!benchDone) from = earliest(from, "wait");
        log(`${cell.serviceName}: still ${state}; reusing it`);
      } else {
        log(`${cell.serviceName}: found in state ${state}; terminating it and deploying again`);
        try {
          await target.terminate(cell.serviceName, terminateDeadline(), undefined, ownerOf(cell));
          await journal.append({ type: "service_terminated", cell: cell.id, serviceName: cell.serviceName });
        } catch (error) {
          log(`${cell.serviceName}: could not terminate it: ${describeError(error)}`);
        }
        if (!benchDone) from = earliest(from, "deploy");
      }
    } else if (cell.steps.bench !== "done" && cell.steps.deploy === "done") {
      // Torn down when the run stopped (or never reached): the benchmark needs a service again.
      from = earliest(from, "deploy");
      log(`${cell.serviceName}: was torn down when the run stopped; it will be deployed again`);
    }
    if (from !== undefined) {
      await journal.append({ type: "cell_reset", cell: cell.id, from, reason: "resume" });
    }
  }
}

function notOursLine(error: NotOurService, recordedId: string | undefined): string {
  const whose =
    error.foundId === recordedId
      ? `this run's service was deployed again by someone else (now version ${error.foundVersionId})`
      : `a service of this name now has id ${error.foundId} (this run's was ${recordedId})`;
  return `not ours: ${whose}; left alone, and this cell cannot be resumed under that name`;
}

function firstUnfinishedStep(cell: CellState): CellStep | undefined {
  return CELL_STEPS.find((step) => cell.steps[step] !== "done");
}

function earliest(a: CellStep | undefined, b: CellStep): CellStep {
  if (a === undefined) return b;
  return CELL_STEPS.indexOf(a) <= CELL_STEPS.indexOf(b) ? a : b;
}
