/**
 * Entry point of a part process (one benchmark client), started by the coordinator with
 * `node dist/bench/part-main.js --exp EXP --part K` and driven over IPC (protocol.ts). The
 * arguments only identify the process for `orchestrate clean`; everything else, including the
 * token, arrives over IPC.
 */
import { describeError } from "../errors.js";
import { redact, registerSecret } from "../secrets.js";
import { type LoadedWorkload, loadWorkloadFile } from "../workloads/workload-file.js";
import { PartLevel } from "./part.js";
import type { FromPart, PartInit, ToPart } from "./protocol.js";

const PROGRESS_EVERY_MS = 500;

function send(message: FromPart): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

async function fatal(error: unknown): Promise<never> {
  await send({ type: "fatal", message: redact(describeError(error)) });
  process.exit(1);
}

if (!process.send) {
  process.stderr.write("part-main is started by `orchestrate bench`, not by hand\n");
  process.exit(2);
}

// The coordinator owns the decision to stop: a terminal's Ctrl-C reaches the whole process group,
// and a part that died on it would lose the requests it has in flight.
process.on("SIGINT", () => {});
// Parts never outlive the coordinator: when the IPC channel closes, the parent is gone.
process.on("disconnect", () => process.exit(0));

let init: PartInit | undefined;
/** The rows of the workload file this part sends, read once for every level. */
let loaded: LoadedWorkload | undefined;
let current: PartLevel | undefined;

process.on("message", (message: ToPart) => {
  handle(message).catch(fatal);
});

async function handle(message: ToPart): Promise<void> {
  switch (message.type) {
    case "init":
      init = message;
      registerSecret(message.token);
      if (message.workloadFile) {
        loaded = await loadWorkloadFile(
          message.workloadFile,
          { outputTokens: message.defaultOutputTokens },
          { part: message.part, clients: message.clients },
        );
      }
      await send({ type: "ready", pid: process.pid });
      return;
    case "prepare":
      if (!init) throw new Error("prepare before init");
      current = await PartLevel.prepare(init, message.level, loaded);
      await send({ type: "armed", key: message.level.key });
      return;
    case "go": {
      const level = current;
      if (!level) throw new Error("go before prepare");
      const report = () => send({ type: "progress", key: message.key, ...level.counts });
      const timer = setInterval(report, PROGRESS_EVERY_MS);
      try {
        const done = await level.run(message.barrierEpochMs);
        await report();
        await send(done);
      } finally {
        clearInterval(timer);
        current = undefined;
      }
      return;
    }
    case "stop":
      current?.stop();
      return;
    case "cancel":
      current?.cancelNow();
      return;
    case "exit":
      process.disconnect();
      process.exit(0);
  }
}
