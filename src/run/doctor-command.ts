import { loadPlan } from "../plan/load.js";
import { anyscalePreflight } from "../targets/anyscale-preflight.js";

/**
 * `orchestrate doctor [PLAN]`: the checks `run` makes before it creates anything, on request.
 * A local plan needs none of them; without a plan, the Anyscale checks run.
 */
export async function doctorCommand(planPath: string | undefined): Promise<void> {
  if (planPath) {
    const { plan } = loadPlan(planPath);
    process.stdout.write(`plan ${planPath}: valid (${plan.name}, target ${plan.target})\n`);
    if (plan.target === "local") {
      process.stdout.write("target local: the simulator needs no Anyscale CLI and no credentials.\n");
      return;
    }
  }
  const report = await anyscalePreflight();
  process.stdout.write(`anyscale CLI: ${report.cliVersion}\ncredentials: ${report.credentials}\n`);
  process.stdout.write("Ready to deploy on Anyscale.\n");
}
