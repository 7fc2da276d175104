import type { Command } from "commander";
import type { Reporter } from "../reporter.js";
import type { PredictOptions } from "../twin/predict-command.js";
import { fileOption } from "./shared-options.js";

export function register(program: Command, reporter: Reporter): void {
  program
    .command("predict")
    .description(
      "predict a plan's results, time and cost before paying for it: every cell and level through the simulator's " +
        "engine and ingress model in virtual time, with the plan's simulator profile (model.profile)",
    )
    .argument("<plan>", "plan file (YAML)")
    .option(
      "--profile <file.json>",
      "use this simulator profile instead of the plan's model.profile",
      fileOption("a simulator profile (JSON)"),
    )
    .option("--json", "print the prediction as JSON")
    .action(async (planPath: string, options: PredictOptions) => {
      const { predictCommand } = await import("../twin/predict-command.js");
      await predictCommand(planPath, options, reporter);
    });
}
