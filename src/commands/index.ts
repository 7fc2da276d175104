import type { Command } from "commander";
import type { Reporter } from "../reporter.js";
import * as bench from "./bench.js";
import * as clean from "./clean.js";
import * as doctor from "./doctor.js";
import * as predict from "./predict.js";
import * as render from "./render.js";
import * as report from "./report.js";
import * as results from "./results.js";
import * as resume from "./resume.js";
import * as run from "./run.js";
import * as sim from "./sim.js";
import * as smoke from "./smoke.js";
import * as status from "./status.js";
import * as teardown from "./teardown.js";

/**
 * Every command registers itself here, in the order `--help` lists them. Command modules are thin
 * (options, a call into the core, printing) and import their core lazily, so `orchestrate --help`
 * loads nothing heavy.
 */
const registrations: Array<(program: Command, reporter: Reporter) => void> = [
  run.register,
  predict.register,
  resume.register,
  status.register,
  teardown.register,
  render.register,
  bench.register,
  smoke.register,
  results.register,
  report.register,
  sim.register,
  clean.register,
  doctor.register,
];

export function registerCommands(program: Command, reporter: Reporter): void {
  for (const register of registrations) register(program, reporter);
}
