import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** The fake `anyscale` CLI (test/fixtures/fake-anyscale), with its own state folder. */
export interface FakeAnyscale {
  /** Put first on PATH. */
  binDir: string;
  stateDir: string;
  /** Environment for a child process that should find the fake as `anyscale`. */
  env: NodeJS.ProcessEnv;
  setFaults(faults: Record<string, unknown>): void;
  /** Every call so far, as argument lists. */
  calls(): string[][];
  service(name: string): Record<string, any> | undefined;
  /**
   * Someone else's service now holds this name: ours was deleted and a new service (a new id)
   * was created under the same name by another user. It keeps serving (it is theirs).
   */
  someoneElseRedeploys(name: string): string;
  /** Processes of calls that the "hang" fault left hanging: [the CLI's pid, its child's pid]. */
  hungPids(): Array<[number, number]>;
}

export const FAKE_BIN_DIR = resolve(import.meta.dirname, "../fixtures/fake-anyscale/bin");

export function createFakeAnyscale(faults: Record<string, unknown> = {}): FakeAnyscale {
  const stateDir = mkdtempSync(join(tmpdir(), "fake-anyscale-"));
  const fake: FakeAnyscale = {
    binDir: FAKE_BIN_DIR,
    stateDir,
    env: {
      ...process.env,
      PATH: `${FAKE_BIN_DIR}:${process.env.PATH}`,
      FAKE_ANYSCALE_STATE: stateDir,
      ANYSCALE_CLI_TOKEN: "aph0_fake_helper_token",
    },
    setFaults(f) {
      writeFileSync(join(stateDir, "faults.json"), JSON.stringify(f));
    },
    calls() {
      const path = join(stateDir, "calls.jsonl");
      if (!existsSync(path)) return [];
      return readFileSync(path, "utf8")
        .trim()
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line).argv as string[]);
    },
    service(name) {
      const path = join(stateDir, "services", `${name}.json`);
      return existsSync(path) ? JSON.parse(readFileSync(path, "utf8")) : undefined;
    },
    someoneElseRedeploys(name) {
      const path = join(stateDir, "services", `${name}.json`);
      const service = JSON.parse(readFileSync(path, "utf8"));
      const id = `service2_${randomBytes(8).toString("hex")}`;
      writeFileSync(
        path,
        JSON.stringify({
          ...service,
          id,
          version: 1,
          deployed_at: Date.now() - 60_000,
          tags: { owner: "someone-else" },
        }),
      );
      return id;
    },
    hungPids() {
      const path = join(stateDir, "hung-pids");
      if (!existsSync(path)) return [];
      return readFileSync(path, "utf8")
        .trim()
        .split("\n")
        .filter(Boolean)
        .map((line) => line.split(" ").map(Number) as [number, number]);
    },
  };
  fake.setFaults(faults);
  return fake;
}
