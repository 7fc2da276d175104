import { loadPlan } from "../plan/load.js";
import { repeatsAdvice } from "../report/repeats-advice.js";
import type { Reporter } from "../reporter.js";
import { anyscalePreflight, type PreflightOptions } from "../targets/anyscale-preflight.js";

/**
 * `orchestrate doctor [PLAN]`: the checks `run` makes before it creates anything, on request.
 * A local plan needs none of them; without a plan, the Anyscale checks run. A failed check is an
 * environment problem (exit 2) and says what to do.
 */
export async function doctorCommand(
  planPath: string | undefined,
  options: PreflightOptions,
  reporter: Reporter,
): Promise<void> {
  if (planPath) {
    const { plan } = loadPlan(planPath);
    reporter.result(`plan ${planPath}: valid (${plan.name}, target ${plan.target})`);
    reporter.result(repeatsAdvice(plan.benchmark));
    if (plan.target === "local") {
      reporter.result("target local: the simulator needs no Anyscale CLI and no credentials.");
      return;
    }
  }
  const report = await anyscalePreflight(process.env, undefined, options);
  reporter.result(`anyscale CLI: ${report.cliVersion}\ncredentials: ${report.credentials}`);
  reporter.result("Ready to deploy on Anyscale.");
}
