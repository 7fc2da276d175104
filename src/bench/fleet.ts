import { type ChildProcess, fork } from "node:child_process";
import { ExternalError } from "../errors.js";
import { distEntry } from "../paths.js";
import { redact } from "../secrets.js";
import { removePids, writePids } from "./experiment-files.js";
import type { FromPart, ToPart } from "./protocol.js";

/**
 * The part processes of one benchmark run. Each is `node dist/bench/part-main.js --exp EXP
 * --part K`; their PIDs are recorded in EXP/pids.json while they live. They never outlive the
 * coordinator: they exit when their IPC channel closes, and a coordinator that exits without
 * shutting them down kills them from its exit handler.
 */

export const PART_ENTRY = "bench/part-main.js";
const SHUTDOWN_GRACE_MS = 5000;
/** Variables a part must not inherit: it gets the token over IPC, and needs nothing else secret. */
const WITHHELD_ENV = ["OPENAI_API_KEY", "ANYSCALE_CLI_TOKEN"];

/**
 * How parts run V8's garbage collector. A scavenge stops the part's loop while it copies what is
 * alive, and every send due meanwhile goes out late. The young generation is fixed at 64 MB per
 * semi-space (V8 starts it at 1 MB and grows it to 16 MB), so V8 scavenges rarely: at 500 req/s,
 * every ~8 s instead of every ~1.5 s. At 1,024 streams that also halved the part's loop lag p99
 * (7-9 ms against 13-17 ms) and its CPU (68-74% against 80-81% of a core). `--expose-gc` lets a
 * part collect where it chooses: before each level (part.ts) and in its schedule's gaps
 * (idle-gc.ts). The cost is up to 128 MB more memory per part.
 */
const PART_NODE_FLAGS = ["--max-semi-space-size=64", "--min-semi-space-size=64", "--expose-gc"];

type Waiter = {
  type: FromPart["type"];
  key: string | undefined;
  got: Map<number, FromPart>;
  resolve: (messages: Map<number, FromPart>) => void;
  reject: (error: Error) => void;
};

export class PartFleet {
  private readonly children = new Map<number, ChildProcess>();
  private readonly stderrTails = new Map<number, string>();
  private readonly fatalMessages = new Map<number, string>();
  private readonly waiters = new Set<Waiter>();
  private shuttingDown = false;
  private crash: ExternalError | undefined;
  private readonly killOnExit = () => {
    for (const child of this.children.values()) child.kill("SIGKILL");
  };
  onProgress: ((part: number, message: Extract<FromPart, { type: "progress" }>) => void) | undefined;

  private constructor(private readonly expDir: string) {}

  static async start(expDir: string, count: number): Promise<PartFleet> {
    const fleet = new PartFleet(expDir);
    process.on("exit", fleet.killOnExit);
    const entry = distEntry(PART_ENTRY);
    const env = { ...process.env };
    for (const name of WITHHELD_ENV) delete env[name];
    for (let part = 1; part <= count; part++) fleet.spawn(entry, part, env);
    await writePids(expDir, {
      coordinator_pid: process.pid,
      started_at: new Date().toISOString(),
      parts: [...fleet.children].map(([part, child]) => ({ part, pid: child.pid ?? -1 })),
    });
    return fleet;
  }

  get parts(): number[] {
    return [...this.children.keys()];
  }

  send(part: number, message: ToPart): void {
    const child = this.children.get(part);
    if (child?.connected) child.send(message);
  }

  broadcast(message: ToPart): void {
    for (const part of this.children.keys()) this.send(part, message);
  }

  /**
   * Resolves when every part has sent a message of this type (for this level key); rejects when
   * a part dies, or after `timeoutMs` (for steps that take no time unless something is wrong).
   */
  waitAll(type: FromPart["type"], key?: string, timeoutMs?: number): Promise<Map<number, FromPart>> {
    if (this.crash) return Promise.reject(this.crash);
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter: Waiter = {
        type,
        key,
        got: new Map(),
        resolve: (messages) => {
          clearTimeout(timer);
          resolve(messages);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.waiters.add(waiter);
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          this.waiters.delete(waiter);
          const missing = this.parts.filter((p) => !waiter.got.has(p));
          reject(
            new ExternalError(
              `benchmark client part ${missing.join(", ")} did not answer "${type}" within ${timeoutMs / 1000} s`,
              {
                kind: "timeout",
              },
            ),
          );
        }, timeoutMs);
      }
    });
  }

  /** Asks every part to exit, kills those that do not, and forgets the PIDs. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    this.broadcast({ type: "exit" });
    const deadline = Date.now() + SHUTDOWN_GRACE_MS;
    for (const child of this.children.values()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = await waitForExit(child, Math.max(0, deadline - Date.now()));
      if (!exited) {
        child.kill("SIGKILL");
        await waitForExit(child, 2000);
      }
    }
    process.off("exit", this.killOnExit);
    await removePids(this.expDir);
  }

  private spawn(entry: string, part: number, env: NodeJS.ProcessEnv): void {
    const child = fork(entry, ["--exp", this.expDir, "--part", String(part)], {
      stdio: ["ignore", "ignore", "pipe", "ipc"],
      // Structured clone keeps values JSON cannot carry (burstiness Infinity = constant spacing).
      serialization: "advanced",
      env,
      execArgv: [...process.execArgv, ...PART_NODE_FLAGS],
    });
    this.children.set(part, child);
    this.stderrTails.set(part, "");
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (text: string) => {
      this.stderrTails.set(part, ((this.stderrTails.get(part) ?? "") + text).slice(-2000));
    });
    child.on("message", (message: FromPart) => this.onMessage(part, message));
    child.on("error", (error) => this.fail(part, `could not run: ${error.message}`));
    child.on("exit", (code, signal) => {
      if (this.shuttingDown) return;
      const why = this.fatalMessages.get(part) ?? this.stderrTails.get(part)?.trim();
      this.fail(part, `exited unexpectedly (${signal ?? `code ${code}`})${why ? `: ${why}` : ""}`);
    });
  }

  private onMessage(part: number, message: FromPart): void {
    if (message.type === "fatal") {
      this.fatalMessages.set(part, message.message);
      return;
    }
    if (message.type === "progress") this.onProgress?.(part, message);
    for (const waiter of [...this.waiters]) {
      if (waiter.type !== message.type) continue;
      if (waiter.key !== undefined && "key" in message && message.key !== waiter.key) continue;
      waiter.got.set(part, message);
      if (waiter.got.size === this.children.size) {
        this.waiters.delete(waiter);
        waiter.resolve(waiter.got);
      }
    }
  }

  private fail(part: number, why: string): void {
    this.crash ??= new ExternalError(redact(`benchmark client part ${part} ${why}`), {
      hint: "the other parts were stopped; the levels finished before this one are kept (--resume continues)",
    });
    for (const waiter of this.waiters) waiter.reject(this.crash);
    this.waiters.clear();
  }
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off("exit", onExit);
      resolve(false);
    }, ms);
    const onExit = () => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once("exit", onExit);
  });
}
