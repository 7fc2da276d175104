/**
 * The simulator as its own process (dist/sim/main.js), for the local target and the fake
 * `anyscale` CLI. Like src/bin.ts it is a process entry point, so it may exit.
 *
 * Input: a partial SimConfig as JSON, from `--config FILE`, the ORCHESTRATE_SIM_CONFIG
 * environment variable and `--config-json TEXT` (later ones win; the token travels in the
 * environment, never on the command line where `ps` shows it).
 * Output: one JSON line on stdout when it listens — {"event":"listening","url":…,"port":…,"pid":…}
 * — so a parent can wait for it; {"event":"error","message":…} on stderr when it cannot start.
 *
 * With ORCHESTRATE_SIM_PARENT_PID set, it exits as soon as that process is gone, so a simulator
 * never outlives the orchestrator that started it, even when the orchestrator is SIGKILLed.
 */
import { readFileSync } from "node:fs";
import { describeError } from "../errors.js";
import { isProcessAlive } from "../process-alive.js";
import {
  mergeSimConfigInputs,
  PARENT_PID_ENV,
  parseSimConfig,
  SIM_CONFIG_ENV,
  type SimConfigInput,
  simConfigFromEnv,
} from "./config.js";
import { startSimulator } from "./simulator.js";

const PARENT_POLL_MS = 200;
const CLOSE_GRACE_MS = 2_000;

async function main(): Promise<void> {
  const config = parseSimConfig(
    mergeSimConfigInputs(fileConfig(), simConfigFromEnv(), argConfig()),
    `${SIM_CONFIG_ENV}, --config, --config-json`,
  );
  const sim = await startSimulator(config);
  watchParent();
  const stop = () => {
    setTimeout(() => process.exit(0), CLOSE_GRACE_MS).unref();
    sim.close().then(() => process.exit(0));
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  process.stdout.write(
    `${JSON.stringify({ event: "listening", url: sim.url, port: sim.port, pid: process.pid, model: config.model })}\n`,
  );
}

function argValue(flag: string): string | undefined {
  const index = process.argv.indexOf(flag);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

function fileConfig(): SimConfigInput | undefined {
  const path = argValue("--config");
  return path ? (JSON.parse(readFileSync(path, "utf8")) as SimConfigInput) : undefined;
}

function argConfig(): SimConfigInput | undefined {
  const text = argValue("--config-json");
  return text ? (JSON.parse(text) as SimConfigInput) : undefined;
}

function watchParent(): void {
  const pid = Number(process.env[PARENT_PID_ENV]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  const originalParent = process.ppid;
  const timer = setInterval(() => {
    // Re-parenting means our parent died, even before its pid is reaped.
    const orphaned = pid === originalParent && process.ppid !== originalParent;
    if (orphaned || !isProcessAlive(pid)) process.exit(0);
  }, PARENT_POLL_MS);
  timer.unref();
}

main().catch((error: unknown) => {
  const details = (error as { details?: readonly string[] }).details ?? [];
  process.stderr.write(`${JSON.stringify({ event: "error", message: describeError(error), details })}\n`);
  process.exit(2);
});
