import type { Command } from "commander";
import { register as registerBench } from "./bench.js";
import { register as registerClean } from "./clean.js";
import { register as registerResults } from "./results.js";
import { register as registerSmoke } from "./smoke.js";

/**
 * Every command registers itself here. Command modules are thin (options, a call into the core,
 * printing) and import their core lazily, so `orchestrate --help` loads nothing heavy.
 */
const registrations: Array<(program: Command) => void> = [];
registrations.push(registerBench, registerSmoke, registerResults, registerClean);

export function registerCommands(program: Command): void {
  for (const register of registrations) register(program);
}
