import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runBenchmark } from "../../../src/bench/coordinator.js";
import type { BenchOptions } from "../../../src/bench/options.js";
import { Interrupted, UserError } from "../../../src/errors.js";
import { loadExperiment } from "../../../src/model/load.js";
import { startTestServer, type TestServer } from "../../helpers/http-server.js";
import { scheduledStream } from "../../helpers/token-stream.js";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const tempExp = (name = "exp") => join(mkdtempSync(join(tmpdir(), "bench-")), name);
const json = (path: string) => JSON.parse(readFileSync(path, "utf8")) as Record<string, any>;

function options(url: string, overrides: Partial<BenchOptions> = {}): BenchOptions {
  return {
    baseUrl: url,
    clients: 1,
    mode: "concurrency",
    levels: [2],
    inputTokens: 10,
    outputTokens: 10,
    numPrompts: 4,
    expDir: tempExp(),
    ...overrides,
  };
}

describe("runBenchmark against a server that emits tokens at known times", () => {
  it("measures each metric as computed by hand", async () => {
    // Every request: first chunk 80 ms after it arrives, then a chunk every 20 ms, 2 tokens each,
    // 10 tokens in all: chunks at 80, 100, 120, 140, 160 ms.
    // By hand: TTFT 80, E2EL 160, TPOT (160 − 80) / 9 = 8.89, ITL 20 per chunk, 10 per token,
    // tokens per chunk 2, output 10 tokens per request.
    const { handler, written } = scheduledStream({ firstMs: 80, gapMs: 20, tokensPerChunk: 2 });
    server = await startTestServer(handler);
    const opts = options(server.url, { clients: 1, levels: [2], numPrompts: 6 });
    const outcome = await runBenchmark(opts);
    const all = json(join(opts.expDir, "all-parts", "conc2.json"));
    // Timers on a busy 2-core machine fire late by a few ms; the server's own write times are
    // the ground truth, and they must sit close to the nominal schedule for the test to mean anything.
    for (const w of written.values()) expect(w.chunks[0]! - w.arrivedAt).toBeLessThan(80 + 25);
    expect(all.completed).toBe(6);
    expect(all.failed).toBe(0);
    expect(all.total_output_tokens).toBe(60);
    expect(all.total_input_tokens).toBe(60);
    expect(all.tokens_per_chunk).toMatchObject({ mean: 2, max: 2 });
    expect(all.median_ttft_ms).toBeGreaterThanOrEqual(80);
    expect(all.median_ttft_ms).toBeLessThan(80 + 25);
    expect(all.median_e2el_ms).toBeGreaterThanOrEqual(160);
    expect(all.median_e2el_ms).toBeLessThan(160 + 30);
    expect(all.median_tpot_ms).toBeCloseTo(80 / 9, -0.5);
    expect(all.median_itl_ms).toBeGreaterThan(15);
    expect(all.median_itl_ms).toBeLessThan(27);
    expect(all.median_itl_per_token_ms).toBeCloseTo(all.median_itl_ms / 2, 0);
    expect(all.token_source).toBe("usage");
    expect(all.achieved_concurrency_per_client).toBeGreaterThan(1.8);
    // Client and server agree on each request's first chunk within loopback delivery time.
    const partJson = json(join(opts.expDir, "part1", "conc2.json"));
    expect(partJson.mean_ttft_ms).toBeCloseTo(all.mean_ttft_ms, 9);
    expect(outcome.experiment.levels[0]).toMatchObject({ key: "conc2", method: "window", completed: 6 });
  });

  it("starts every part of a level at the same barrier instant", async () => {
    const { handler, written } = scheduledStream({ firstMs: 5, gapMs: 5 });
    server = await startTestServer(handler);
    const opts = options(server.url, { clients: 3, levels: [1, 2], numPrompts: 4, outputTokens: 4 });
    await runBenchmark(opts);
    for (const key of ["conc1", "conc2"]) {
      const all = json(join(opts.expDir, "all-parts", `${key}.json`));
      const firstArrivals = [1, 2, 3].map((part) => {
        const mine = [...written]
          .filter(([id]) => id.includes(`-p${part}-${key}-`))
          .map(([, w]) => w.arrivedEpochMs);
        return Math.min(...mine);
      });
      // Nobody starts before the barrier, which lies 250 ms after the coordinator said "go", and
      // all start right after it: typically within a few ms; the bound allows for a machine so
      // busy that a process waits its turn for a CPU, and stays well below those 250 ms.
      for (const t of firstArrivals) {
        expect(t).toBeGreaterThanOrEqual(all.barrier_epoch_ms - 1);
        expect(t - all.barrier_epoch_ms).toBeLessThan(100);
      }
      expect(Math.max(...firstArrivals) - Math.min(...firstArrivals)).toBeLessThan(100);
      for (const skew of Object.values(all.start_skew_ms as Record<string, number>)) {
        expect(skew).toBeGreaterThanOrEqual(0);
        expect(skew).toBeLessThan(100);
      }
      expect(all.parts).toBe(3);
      expect(all.window.disjoint).toBe(false);
    }
  });

  it("holds an open-loop rate on an absolute schedule", async () => {
    const { handler } = scheduledStream({ firstMs: 5, gapMs: 5 });
    server = await startTestServer(handler);
    const opts = options(server.url, {
      mode: "request-rate",
      levels: [40],
      numPrompts: 60,
      outputTokens: 2,
      burstiness: Number.POSITIVE_INFINITY,
    });
    await runBenchmark(opts);
    const all = json(join(opts.expDir, "all-parts", "rr40.json"));
    // Constant spacing: 60 arrivals at 25 ms. The rate over the window is what was asked.
    expect(all.achieved_rate).toBeGreaterThan(40 * 0.97);
    expect(all.achieved_rate).toBeLessThan(40 * 1.03);
    // Sends are late by a timer's slack at the median; how late at p99 depends on how busy the
    // machine is (the no-drift property itself is pinned in schedulers.test.ts).
    expect(all.schedule_lag_ms.p50).toBeGreaterThanOrEqual(0);
    expect(all.schedule_lag_ms.p50).toBeLessThan(10);
    expect(all.request_rate).toBe(40);
  });
});

describe("experiment folders", () => {
  it("refuses to overwrite, replaces with force, and resumes only what is not complete", async () => {
    const { handler } = scheduledStream({ firstMs: 2, gapMs: 2 });
    server = await startTestServer(handler);
    const opts = options(server.url, { levels: [1], numPrompts: 2, outputTokens: 3 });
    await runBenchmark(opts);
    await expect(runBenchmark(opts)).rejects.toBeInstanceOf(UserError);

    const conc1 = join(opts.expDir, "all-parts", "conc1.json");
    const before = statSync(conc1).mtimeMs;
    const resumed = await runBenchmark({ ...opts, levels: [1, 2], overwrite: "resume" });
    expect(resumed.skipped).toEqual(["conc1"]);
    expect(resumed.ran).toEqual(["conc2"]);
    expect(statSync(conc1).mtimeMs).toBe(before);

    // A level that was cut short is re-run whole on resume.
    const manifestPath = join(opts.expDir, "experiment.json");
    const manifest = json(manifestPath);
    manifest.levels[1].status = "interrupted";
    const { writeFileSync } = await import("node:fs");
    writeFileSync(manifestPath, JSON.stringify(manifest));
    const again = await runBenchmark({ ...opts, levels: [1, 2], overwrite: "resume" });
    expect(again.ran).toEqual(["conc2"]);
    expect(json(manifestPath).levels.map((l: { status: string }) => l.status)).toEqual([
      "complete",
      "complete",
    ]);

    await expect(runBenchmark({ ...opts, inputTokens: 11, overwrite: "resume" })).rejects.toThrow(
      /different settings/,
    );
    const forced = await runBenchmark({ ...opts, overwrite: "force" });
    expect(forced.ran).toEqual(["conc1"]);
    expect(existsSync(join(opts.expDir, "all-parts", "conc2.json"))).toBe(false);
  });

  it("labels the experiment from the options, and the reader returns them", async () => {
    const { handler } = scheduledStream({ firstMs: 2, gapMs: 2 });
    server = await startTestServer(handler);
    const opts = options(server.url, {
      levels: [1],
      numPrompts: 1,
      outputTokens: 2,
      labels: { image: "rayturbo-251", runtime: "turbo", scale: 4, cell: "c1" },
    });
    await runBenchmark(opts);
    const summary = await loadExperiment(opts.expDir);
    expect(summary).toMatchObject({
      format: "orchestrate",
      image: "rayturbo-251",
      runtime: "turbo",
      scale: 4,
    });
    expect(json(join(opts.expDir, "experiment.json")).labels.cell).toBe("c1");
  });

  it("never writes the token anywhere in the experiment", async () => {
    const token = "sk-orchestrate-test-0123456789";
    const { handler } = scheduledStream({ firstMs: 2, gapMs: 2, token });
    server = await startTestServer(handler);
    const opts = options(server.url, { levels: [1], numPrompts: 2, outputTokens: 2, token });
    const outcome = await runBenchmark(opts);
    expect(outcome.experiment.levels[0]?.completed).toBe(2);
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else files.push(path);
      }
    };
    walk(opts.expDir);
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const file of files) expect(readFileSync(file).includes(token), file).toBe(false);
  });

  it("keeps failed requests, one kind each, and warns about them", async () => {
    let n = 0;
    server = await startTestServer((req, res) => {
      n += 1;
      if (n % 2 === 0) {
        res.writeHead(503, { "content-type": "application/json" });
        res.end(JSON.stringify({ message: "overloaded" }));
        return;
      }
      return scheduledStream({ firstMs: 2, gapMs: 2 }).handler(req, res);
    });
    const opts = options(server.url, { levels: [1], numPrompts: 4, outputTokens: 2 });
    const outcome = await runBenchmark(opts);
    const level = outcome.experiment.levels[0]!;
    expect(level).toMatchObject({ completed: 2, failed: 2, errorsByKind: { http_5xx: 2 } });
    expect(level.warnings.map((w) => w.kind).sort()).toEqual(["failed_requests", "incomplete"]);
  });
});

describe("stopping", () => {
  it("stops on the first abort, writes what was measured, marks it interrupted, and rejects with Interrupted", async () => {
    const { handler } = scheduledStream({ firstMs: 10, gapMs: 10 });
    server = await startTestServer(handler);
    const controller = new AbortController();
    const opts = options(server.url, { levels: [2, 4], numPrompts: 1000, outputTokens: 5, stopGraceMs: 500 });
    let progressed = false;
    const run = runBenchmark(opts, {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.done >= 10 && !progressed) {
          progressed = true;
          controller.abort();
        }
      },
    });
    await expect(run).rejects.toBeInstanceOf(Interrupted);
    const manifest = json(join(opts.expDir, "experiment.json"));
    expect(manifest.status).toBe("interrupted");
    expect(manifest.levels.map((l: { status: string }) => l.status)).toEqual(["interrupted", "pending"]);
    const all = json(join(opts.expDir, "all-parts", "conc2.json"));
    expect(all.interrupted).toBe(true);
    expect(all.completed).toBeGreaterThanOrEqual(10);
    expect(all.completed).toBeLessThan(1000);
    expect(all.warnings.map((w: { kind: string }) => w.kind)).toContain("incomplete");
    expect(existsSync(join(opts.expDir, "pids.json"))).toBe(false);
  });

  it("fails fast, naming the part, when a client process dies", async () => {
    const { handler } = scheduledStream({ firstMs: 10, gapMs: 10 });
    server = await startTestServer(handler);
    const opts = options(server.url, { clients: 2, levels: [2], numPrompts: 1000, outputTokens: 5 });
    let killed = false;
    const run = runBenchmark(opts, {
      onProgress: () => {
        if (killed) return;
        killed = true;
        const pids = json(join(opts.expDir, "pids.json"));
        process.kill(pids.parts[1].pid, "SIGKILL");
      },
    });
    await expect(run).rejects.toThrow(/part 2 exited unexpectedly \(SIGKILL\)/);
    const manifest = json(join(opts.expDir, "experiment.json"));
    expect(manifest.status).toBe("failed");
    expect(manifest.levels[0].status).toBe("failed");
    expect(existsSync(join(opts.expDir, "pids.json"))).toBe(false);
  });
});
