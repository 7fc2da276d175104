import { randomBytes } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
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
  /** The service of this name in `project`, or (without one) the oldest of that name in any project. */
  service(name: string, project?: string): Record<string, any> | undefined;
  /** The URL a service serves on, while it serves. */
  serviceUrl(name: string, project?: string): string | undefined;
  /** Every containerfile build a deploy started: [name, whether it succeeded]. */
  builds(): Array<{ name: string; ok: boolean }>;
  /**
   * Someone else's service now holds this name: ours was deleted and a new service (a new id)
   * was created under the same name by another user. It keeps serving (it is theirs).
   */
  someoneElseRedeploys(name: string): string;
  /**
   * Someone deploys this (terminated) name again, as the real CLI allows: the same service id
   * comes back with a new version. Returns the new (truncated) version id.
   */
  someoneRestarts(name: string, project?: string): string;
  /** Someone deletes (archives) the service: the CLI no longer knows the name. */
  deleteService(name: string, project?: string): void;
  /** A service of this name that someone else has (or had: `terminated`) in another project. Returns its id. */
  serviceInOtherProject(name: string, project: string, options?: { terminated?: boolean }): string;
  /** Processes of calls that the "hang" fault left hanging: [the CLI's pid, its child's pid]. */
  hungPids(): Array<[number, number]>;
}

const servingUntilTestEnds: number[] = [];

/**
 * A service a test leaves serving on purpose (someone else's, or one the run lost track of): its
 * process group is stopped by stopServicesLeftByTest, which a test file runs in afterEach.
 */
export function stopAfterTest(pid: number | undefined): void {
  if (pid !== undefined) servingUntilTestEnds.push(pid);
}

export function stopServicesLeftByTest(): void {
  for (const pid of servingUntilTestEnds.splice(0)) {
    try {
      process.kill(-pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
}

export const FAKE_BIN_DIR = resolve(import.meta.dirname, "../fixtures/fake-anyscale/bin");

export function createFakeAnyscale(faults: Record<string, unknown> = {}): FakeAnyscale {
  const stateDir = mkdtempSync(join(tmpdir(), "fake-anyscale-"));
  const servicesDir = join(stateDir, "services");
  const fileOf = (name: string, project?: string): string | undefined => {
    if (project) return join(servicesDir, project, name);
    if (!existsSync(servicesDir)) return undefined;
    const found = readdirSync(servicesDir)
      .map((p) => join(servicesDir, p, name))
      .filter((f) => existsSync(`${f}.json`))
      .map((f) => ({ f, created: JSON.parse(readFileSync(`${f}.json`, "utf8")).created_at as number }))
      .sort((a, b) => a.created - b.created);
    return found[0]?.f;
  };
  const read = (file: string | undefined) =>
    file && existsSync(`${file}.json`) ? JSON.parse(readFileSync(`${file}.json`, "utf8")) : undefined;
  const write = (service: Record<string, any>) => {
    mkdirSync(join(servicesDir, service.project), { recursive: true });
    writeFileSync(
      join(servicesDir, service.project, `${service.name}.json`),
      JSON.stringify(service, null, 2),
    );
  };
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
    service(name, project) {
      return read(fileOf(name, project));
    },
    serviceUrl(name, project) {
      const file = fileOf(name, project);
      return file && existsSync(`${file}.url`) ? readFileSync(`${file}.url`, "utf8").trim() : undefined;
    },
    builds() {
      const path = join(stateDir, "builds.jsonl");
      if (!existsSync(path)) return [];
      return readFileSync(path, "utf8")
        .trim()
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line));
    },
    someoneElseRedeploys(name) {
      const service = read(fileOf(name));
      const id = `service2_${randomBytes(8).toString("hex")}`;
      write({
        ...service,
        id,
        version_id: `svcver_${randomBytes(10).toString("hex")}`,
        version: 1,
        deployed_at: Date.now() - 60_000,
        tags: { owner: "someone-else" },
      });
      return id;
    },
    someoneRestarts(name, project) {
      const service = read(fileOf(name, project));
      const versionId = `svcver_${randomBytes(10).toString("hex")}`;
      write({
        ...service,
        version_id: versionId,
        version: service.version + 1,
        deployed_at: Date.now(),
        terminated: false,
        tags: { owner: "someone-else" },
      });
      return versionId.slice(-10);
    },
    deleteService(name, project) {
      const file = fileOf(name, project);
      const service = read(file);
      if (!file || !service) return;
      if (service.pid) {
        try {
          process.kill(-service.pid, "SIGTERM");
        } catch {
          // already gone
        }
      }
      rmSync(`${file}.json`);
    },
    serviceInOtherProject(name, project, options = {}) {
      const id = `service2_${randomBytes(8).toString("hex")}`;
      write({
        name,
        project,
        cloud: "default-cloud",
        id,
        version_id: `svcver_${randomBytes(10).toString("hex")}`,
        created_at: Date.now() - 3_600_000,
        deployed_at: Date.now() - 3_600_000,
        version: 1,
        tags: { owner: "someone-else" },
        terminated: options.terminated ?? false,
      });
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
