import { describeError, ExternalError } from "../errors.js";
import { Journal } from "./journal.js";
import { acquireRunLock } from "./lock.js";
import { RunFolder } from "./run-folder.js";

/**
 * `orchestrate teardown RUN_DIR`: terminates, and confirms, every service the run created that
 * is still up — after a crash, a `--keep-services` run, or `teardown: never`.
 */
export async function teardownCommand(dir: string): Promise<void> {
  const folder = new RunFolder(dir);
  // Not while the run is live: its own teardown is in charge, and it would redeploy what we stop.
  const lock = acquireRunLock(folder.dir);
  try {
    const journal = Journal.open(folder.dir);
    const plan = folder.readPlan();
    const { createTarget } = await import("./adapters.js");
    const target = createTarget(plan, folder, (m) => process.stderr.write(`${m}\n`));
    const candidates = journal.state.cells.filter(
      (c) => c.service === "deployed" || c.service === "left_running",
    );
    const failures: string[] = [];
    let terminated = 0;
    for (const cell of candidates) {
      const status = await target.status(cell.serviceName);
      if (!status || status.state === "TERMINATED") {
        await journal.append({
          type: "service_observed",
          cell: cell.id,
          serviceName: cell.serviceName,
          state: status?.state ?? "ABSENT",
        });
        continue;
      }
      process.stdout.write(`terminating ${cell.serviceName} (${status.state})…\n`);
      try {
        await target.terminate(cell.serviceName, Date.now() + plan.deploy.terminate_timeout_s * 1000);
        await journal.append({ type: "service_terminated", cell: cell.id, serviceName: cell.serviceName });
        terminated += 1;
      } catch (error) {
        failures.push(`${cell.serviceName}: ${describeError(error)}`);
      }
    }
    if (failures.length > 0) {
      throw new ExternalError(
        `could not confirm termination of ${failures.length} service(s):\n  ${failures.join("\n  ")}`,
        {
          hint: "they may still be running and costing money; check them in the Anyscale console",
        },
      );
    }
    process.stdout.write(
      terminated === 0
        ? "No service of this run was running.\n"
        : `Terminated ${terminated} service(s) of this run.\n`,
    );
  } finally {
    lock.release();
  }
}
