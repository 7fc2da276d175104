import type { Command } from "commander";
import { register as registerSim } from "./sim.js";

/**
 * Every command registers itself here. Command modules are thin (options, a call into the core,
 * printing) and import their core lazily, so `orchestrate --help` loads nothing heavy.
 */
const registrations: Array<(program: Command) => void> = [];
registrations.push(registerSim);

export function registerCommands(program: Command): void {
  for (const register of registrations) register(program);
}
