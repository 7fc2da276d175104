import { spawn } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { expandCells } from "../../../src/plan/expand.js";
import { parsePlanText } from "../../../src/plan/load.js";
import { processIdentity } from "../../../src/process-alive.js";
import { renderServiceConfig } from "../../../src/render/service.js";
import { settleBounded } from "../../../src/run/bounded.js";
import { Journal, readJournal } from "../../../src/run/journal.js";
import { acquireRunLock, LOCK_FILE } from "../../../src/run/lock.js";
import { childEnvironment } from "../../../src/sim/child.js";

const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));

async function journalWithTwoEvents(dir: string): Promise<Journal> {
  const journal = await Journal.create(dir, {
    type: "run_started",
    format: 1,
    runId: "r",
    planName: "p",
    planPath: "/plans/p.yaml",
    planHash: "h",
    target: "anyscale",
    cells: [{ id: "a-x1", serviceName: "p-a-x1" }],
  });
  await journal.append({ type: "service_recorded", cell: "a-x1", serviceName: "p-a-x1" });
  return journal;
}

describe("a journal cut short by a crash", () => {
  it("drops the fragment on open, says so, and appends the next event on a line of its own", async () => {
    const dir = tempDir("journal-");
    await journalWithTwoEvents(dir);
    const path = join(dir, "journal.jsonl");
    const whole = readFileSync(path, "utf8");
    // A crash in the middle of writing the third event.
    appendFileSync(path, '{"type":"service_identified","cell":"a-x1","serviceName":"p-a-x1","serv');
    const warnings: string[] = [];
    const journal = Journal.open(dir, (m) => warnings.push(m));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/the last line was cut short .* dropped those 71 bytes, 2 events kept$/);
    expect(readFileSync(path, "utf8")).toBe(whole);
    await journal.append({
      type: "service_identified",
      cell: "a-x1",
      serviceName: "p-a-x1",
      serviceId: "service2_x",
    });
    expect(readJournal(dir).map((e) => e.type)).toEqual([
      "run_started",
      "service_recorded",
      "service_identified",
    ]);
    expect(journal.state.cells[0]).toMatchObject({ service: "deployed", serviceId: "service2_x" });
  });

  it("keeps a whole last event whose newline was lost", async () => {
    const dir = tempDir("journal-");
    await journalWithTwoEvents(dir);
    const path = join(dir, "journal.jsonl");
    const event = { type: "service_terminated", cell: "a-x1", serviceName: "p-a-x1", seq: 3, at: "t" };
    appendFileSync(path, JSON.stringify(event));
    const warnings: string[] = [];
    const journal = Journal.open(dir, (m) => warnings.push(m));
    expect(warnings).toEqual([]);
    await journal.append({ type: "run_finished", outcome: "succeeded" });
    expect(readJournal(dir).map((e) => e.type)).toEqual([
      "run_started",
      "service_recorded",
      "service_terminated",
      "run_finished",
    ]);
  });
});

describe("stale run locks", () => {
  const writeLock = (dir: string, owner: Record<string, unknown>) =>
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ host: hostname(), since: "earlier", ...owner }));

  it("are refused while the owner runs", () => {
    const dir = tempDir("lock-");
    writeLock(dir, { pid: process.pid, startTime: processIdentity(process.pid)?.startTime });
    expect(() => acquireRunLock(dir)).toThrow(`is in use by process ${process.pid}`);
  });

  it("are taken over from a pid that now belongs to another process (another start time)", () => {
    const dir = tempDir("lock-");
    writeLock(dir, { pid: process.pid, startTime: "1" });
    const lock = acquireRunLock(dir);
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), "utf8")).startTime).toBe(
      processIdentity(process.pid)?.startTime,
    );
    lock.release();
  });

  it.runIf(process.platform === "linux")("are taken over from a zombie", async () => {
    // `sleep 0.2` is left to a parent (`exec sleep 5`) that never reaps it: a zombie once it ends.
    const parent = spawn("sh", ["-c", "sleep 0.2 & echo $!; exec sleep 5"], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    const zombie = await new Promise<number>((resolve) =>
      parent.stdout.once("data", (d) => resolve(Number(String(d).trim()))),
    );
    const startTime = processIdentity(zombie)?.startTime;
    const deadline = Date.now() + 5_000;
    while (processIdentity(zombie)?.state !== "Z" && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(processIdentity(zombie)?.state).toBe("Z");
    const dir = tempDir("lock-");
    writeLock(dir, { pid: zombie, startTime });
    const lock = acquireRunLock(dir);
    lock.release();
    parent.kill();
  });
});

describe("simulator children", () => {
  it("get an allow-listed environment: no credentials under any name", () => {
    const env = childEnvironment({
      PATH: "/bin",
      HOME: "/home/u",
      OPENAI_API_KEY: "sk-1",
      ANYSCALE_CLI_TOKEN: "aph0_1",
      AWS_SECRET_ACCESS_KEY: "x",
      HF_TOKEN: "hf_1",
    });
    expect(env).toEqual({ PATH: "/bin", HOME: "/home/u" });
  });
});

describe("bounded parallel work", () => {
  it("runs every item, at most `limit` at once, and one failure does not stop the rest", async () => {
    let running = 0;
    let peak = 0;
    const results = await settleBounded([1, 2, 3, 4, 5, 6], 2, async (n) => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 10));
      running -= 1;
      if (n === 2) throw new Error("two failed");
      return n * 10;
    });
    expect(peak).toBe(2);
    expect(results.map((r) => (r.status === "fulfilled" ? r.value : (r.reason as Error).message))).toEqual([
      10,
      "two failed",
      30,
      40,
      50,
      60,
    ]);
  });
});

describe("working_dir in a run's service config", () => {
  const text = `${readFileSync(join(import.meta.dirname, "../../fixtures/plans/good/tiny.yaml"), "utf8")}
application:
  working_dir: ./serve_app
`;
  it("resolves against the plan's folder, not the folder the CLI runs in", () => {
    const { plan } = parsePlanText(text, "/work/plans/tiny.yaml", { env: {} });
    const cell = expandCells(plan)[0]!;
    expect(renderServiceConfig(plan, cell, undefined, { planDir: "/work/plans" }).working_dir).toBe(
      "/work/plans/serve_app",
    );
    // `render` writes it as the plan gives it.
    expect(renderServiceConfig(plan, cell).working_dir).toBe("./serve_app");
  });

  it("leaves a remote working_dir as it is", () => {
    const { plan } = parsePlanText(text.replace("./serve_app", "s3://bucket/app.zip"), "/p/tiny.yaml", {
      env: {},
    });
    const cell = expandCells(plan)[0]!;
    expect(renderServiceConfig(plan, cell, undefined, { planDir: "/p" }).working_dir).toBe(
      "s3://bucket/app.zip",
    );
  });
});
