import { describeError, ExternalError } from "../errors.js";
import type { Reporter } from "../reporter.js";
import { judgeOwnership, NotOurService } from "../targets/target.js";
import { settleBounded, TEARDOWN_PARALLELISM } from "./bounded.js";
import { type CellState, identityOf, Journal, notOursEvent, ownerOf } from "./journal.js";
import { acquireRunLock } from "./lock.js";
import type { BuildingTarget } from "./ports.js";
import { openRunFolder } from "./run-folder.js";

/**
 * `orchestrate teardown RUN_DIR`: terminates, and confirms, every service the run created that
 * is still up — after a crash, a `--keep-services` run, or `teardown: never`. Services are torn
 * down in parallel (bounded); one that fails does not stop the others; a service of the same name
 * with another id or version than the ones the run recorded is someone else's and is left alone.
 */
export async function teardownCommand(dir: string, reporter: Reporter): Promise<void> {
  const folder = openRunFolder(dir);
  // Not while the run is live: its own teardown is in charge, and it would redeploy what we stop.
  const lock = acquireRunLock(folder.dir);
  try {
    const say = (m: string) => reporter.note(m);
    const journal = Journal.open(folder.dir, (m) => say(`warning: ${m}`));
    const plan = folder.readPlan();
    const { createTarget } = await import("./adapters.js");
    const target = createTarget(plan, folder, say);
    const candidates = journal.state.cells.filter(
      (c) => c.service === "deployed" || c.service === "left_running",
    );
    const deadline = () => Date.now() + plan.deploy.terminate_timeout_s * 1000;
    const results = await settleBounded(candidates, TEARDOWN_PARALLELISM, (cell) =>
      tearDownOne(cell, target, journal, deadline(), reporter),
    );
    const failures: string[] = [];
    let terminated = 0;
    results.forEach((result, i) => {
      const cell = candidates[i] as CellState;
      if (result.status === "rejected") failures.push(`${cell.serviceName}: ${describeError(result.reason)}`);
      else if (result.value === "terminated") terminated += 1;
    });
    if (failures.length > 0) {
      throw new ExternalError(
        `${failures.length} service(s) of this run not confirmed down:\n  ${failures.join("\n  ")}`,
        {
          hint: `they may still be running and costing money; run orchestrate teardown ${folder.dir} again, or check them in the Anyscale console`,
        },
      );
    }
    reporter.result(
      terminated === 0
        ? "No service of this run was running.\n"
        : `Terminated ${terminated} service(s) of this run.`,
    );
  } finally {
    lock.release();
  }
}

type Outcome = "terminated" | "already_gone" | "not_ours";

async function tearDownOne(
  cell: CellState,
  target: BuildingTarget,
  journal: Journal,
  deadline: number,
  reporter: Reporter,
): Promise<Outcome> {
  if (cell.lostTrack) {
    // Its name answers with another service: a lookup by name would report that one, not ours.
    throw new ExternalError(`not reachable by name: ${cell.lostTrack}`, {
      hint: "terminate it yourself in its project (Anyscale console, or anyscale service terminate there)",
    });
  }
  const status = await target.status(cell.serviceName);
  const ownership = judgeOwnership(status, identityOf(cell));
  if (ownership.kind === "not_ours") return notOurs(cell, journal, ownership.error, reporter);
  if (!status || status.state === "TERMINATED") {
    await journal.append({
      type: "service_observed",
      cell: cell.id,
      serviceName: cell.serviceName,
      state: status?.state ?? "ABSENT",
    });
    return "already_gone";
  }
  reporter.result(`terminating ${cell.serviceName} (${status.state})…`);
  try {
    await target.terminate(cell.serviceName, deadline, undefined, ownerOf(cell));
  } catch (error) {
    if (error instanceof NotOurService) return notOurs(cell, journal, error, reporter);
    throw error;
  }
  await journal.append({ type: "service_terminated", cell: cell.id, serviceName: cell.serviceName });
  reporter.result(`${cell.serviceName}: TERMINATED (confirmed)`);
  return "terminated";
}

async function notOurs(
  cell: CellState,
  journal: Journal,
  error: NotOurService,
  reporter: Reporter,
): Promise<Outcome> {
  await journal.append(notOursEvent(cell, error));
  reporter.result(error.message);
  return "not_ours";
}
