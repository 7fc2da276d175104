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
}

export const FAKE_BIN_DIR = resolve(import.meta.dirname, "../fixtures/fake-anyscale/bin");

export function createFakeAnyscale(faults: Record<string, unknown> = {}): FakeAnyscale {
  const stateDir = mkdtempSync(join(tmpdir(), "fake-anyscale-"));
  const fake: FakeAnyscale = {
    binDir: FAKE_BIN_DIR,
    stateDir,
    env: { ...process.env, PATH: `${FAKE_BIN_DIR}:${process.env.PATH}`, FAKE_ANYSCALE_STATE: stateDir },
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
  };
  fake.setFaults(faults);
  return fake;
}
