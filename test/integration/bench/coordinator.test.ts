import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runBenchmark } from "../../../src/bench/coordinator.js";
import type { BenchOptions } from "../../../src/bench/options.js";
import { Interrupted, UserError } from "../../../src/errors.js";
import { loadExperiment } from "../../../src/model/load.js";
import { startTestServer, type TestServer } from "../../helpers/http-server.js";
import { epochRecords } from "../../helpers/records.js";
import {
  CROSS_PROCESS_CLOCK_MS,
  lagMargin,
  partLagMs,
  SLACK_MS,
  sampleBenchParts,
  watchLoopLag,
} from "../../helpers/timing-margin.js";
import { CHAT_TEMPLATE_TOKENS, scheduledStream } from "../../helpers/token-stream.js";

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
  // Chat is measured as completions are, within the same margins: the role-only first event is
  // no token, and the prompt is what the server counted (the words plus its template).
  it.each(["completions", "chat"] as const)(
    "measures each metric as computed by hand (%s)",
    async (endpoint) => {
      // Every request: first chunk 80 ms after it arrives, then a chunk every 20 ms, 2 tokens each,
      // 10 tokens in all: chunks at 80, 100, 120, 140, 160 ms.
      // By hand: TTFT 80, E2EL 160, TPOT (160 − 80) / 9 = 8.89, ITL 20 per chunk, 10 per token,
      // tokens per chunk 2, output 10 tokens per request.
      const { handler, written } = scheduledStream({ firstMs: 80, gapMs: 20, tokensPerChunk: 2 });
      server = await startTestServer(handler);
      // No warm-up wave: every request here is one the hand calculation counts.
      const opts = options(server.url, {
        clients: 1,
        levels: [2],
        numPrompts: 6,
        warmup: 0,
        endpoint,
        ...(endpoint === "chat" ? { tokenizer: "o200k_base" as const } : {}),
      });
      const lag = watchLoopLag();
      const outcome = await runBenchmark(opts);
      lag.stop();
      const all = json(join(opts.expDir, "all-parts", "conc2.json"));
      const partJson = json(join(opts.expDir, "part1", "conc2.json"));
      // The server (this process) and the client (the part process) can each fall behind by as much
      // as their loops lagged, which the test measures here and the part measures itself.
      const serverLag = lag.maxMs();
      const clientLag = partLagMs(partJson);
      // The premise: the server wrote on schedule, late by no more than its own loop lagged.
      for (const w of written.values()) {
        w.chunks.forEach((t, k) => {
          expect(t - w.arrivedAt).toBeGreaterThanOrEqual(80 + 20 * k);
          expect(t - w.arrivedAt - (80 + 20 * k)).toBeLessThanOrEqual(lagMargin(serverLag));
        });
      }
      expect(all.completed).toBe(6);
      expect(all.failed).toBe(0);
      expect(all.total_output_tokens).toBe(60);
      expect(all.total_input_tokens).toBe(endpoint === "chat" ? 6 * (10 + CHAT_TEMPLATE_TOKENS) : 60);
      const path = endpoint === "chat" ? "/v1/chat/completions" : "/v1/completions";
      expect([...written.values()].every((w) => w.url === path)).toBe(true);
      expect(all.endpoint).toBe(endpoint);
      const template = endpoint === "chat" ? CHAT_TEMPLATE_TOKENS : 0;
      expect(all.prompt_tokens_deviation).toMatchObject({ requests: 6, min: template, max: template });
      expect(all.token_source).toBe("usage");
      expect(all.tokens_per_chunk).toMatchObject({ mean: 2, max: 2 });

      // Each chunk the client timed, beside the server's write of it (the client reads each write
      // of a chunked response on its own, even when several arrive together): it arrived after the
      // write, and no later than the client's loop lagged.
      const records = await epochRecords(join(opts.expDir, "part1", "conc2.records.bin"));
      expect(records).toHaveLength(6);
      for (const r of records) {
        const [, w] = [...written].find(([id]) => id.endsWith(r.idSuffix))!;
        expect(r.chunkTokens).toEqual([2, 2, 2, 2, 2]);
        r.chunkTimes.forEach((arrived, j) => {
          const wrote = performance.timeOrigin + w.chunks[j]!;
          expect(arrived).toBeGreaterThanOrEqual(wrote - CROSS_PROCESS_CLOCK_MS);
          expect(arrived - wrote).toBeLessThanOrEqual(lagMargin(clientLag) + CROSS_PROCESS_CLOCK_MS);
        });
      }

      // The metrics against the hand-computed figures. Lower bounds are exact: no timer fires early.
      // Upper bounds allow for every lag on the way: the request reaching the server (its loop), the
      // server writing late (its loop), the chunk reaching the client (the client's loop).
      const transit = lagMargin(serverLag, serverLag, clientLag);
      expect(all.median_ttft_ms).toBeGreaterThanOrEqual(80);
      expect(all.median_ttft_ms).toBeLessThanOrEqual(80 + transit);
      expect(all.median_e2el_ms).toBeGreaterThanOrEqual(160);
      expect(all.median_e2el_ms).toBeLessThanOrEqual(160 + transit);
      // Between two chunks of one request only the server's lateness and the client's delivery can
      // move either end (the request's transit is common to both).
      const between = lagMargin(serverLag, clientLag);
      expect(Math.abs(all.median_tpot_ms - 80 / 9)).toBeLessThanOrEqual(between / 9);
      expect(Math.abs(all.median_itl_ms - 20)).toBeLessThanOrEqual(between);
      expect(all.median_itl_per_token_ms).toBeCloseTo(all.median_itl_ms / 2, 0);
      // Two slots, three requests each: a slot idles only between a request's end and the next send
      // in the client (at most 2 hand-overs per slot inside the window, each within its lag).
      const windowMs = all.window.length_s * 1000;
      expect(all.achieved_concurrency_per_client).toBeGreaterThanOrEqual(
        2 - (4 * lagMargin(clientLag)) / windowMs,
      );
      expect(all.achieved_concurrency_per_client).toBeLessThanOrEqual(2);
      // Client and server agree on each request's first chunk within loopback delivery time.
      expect(partJson.mean_ttft_ms).toBeCloseTo(all.mean_ttft_ms, 9);
      expect(outcome.experiment.levels[0]).toMatchObject({ key: "conc2", method: "window", completed: 6 });
    },
  );

  it("starts every part of a level at the same barrier instant", async () => {
    const { handler, written } = scheduledStream({ firstMs: 5, gapMs: 5 });
    server = await startTestServer(handler);
    const opts = options(server.url, { clients: 3, levels: [1, 2], numPrompts: 4, outputTokens: 4 });
    const parts = sampleBenchParts(opts.expDir);
    const lag = watchLoopLag();
    try {
      await runBenchmark(opts);
    } finally {
      parts.stop();
      lag.stop();
    }
    for (const key of ["conc1", "conc2"]) {
      const all = json(join(opts.expDir, "all-parts", `${key}.json`));
      const barrier = all.barrier_epoch_ms as number;
      for (const part of [1, 2, 3]) {
        const firstArrival = Math.min(
          ...[...written].filter(([id]) => id.includes(`-p${part}-${key}-`)).map(([, w]) => w.arrivedEpochMs),
        );
        const skew = all.start_skew_ms[String(part)] as number;
        // Nobody starts before the barrier, which lies 250 ms after the coordinator said "go".
        expect(skew).toBeGreaterThanOrEqual(0);
        expect(firstArrival).toBeGreaterThanOrEqual(barrier - CROSS_PROCESS_CLOCK_MS);
        // A part waiting for the barrier is idle, asleep on a timer: it can start late only by
        // the time it spent running or waiting for a CPU meanwhile (Linux tells; elsewhere the
        // barrier's lead of 250 ms is the bound). A part that slept on past the barrier by
        // itself fails here.
        const busy = (until: number) =>
          parts.busyMs(part, barrier - CROSS_PROCESS_CLOCK_MS, until + CROSS_PROCESS_CLOCK_MS) ?? 250;
        expect(skew).toBeLessThanOrEqual(busy(barrier + skew) + SLACK_MS);
        // Its first request goes out as it starts and reaches the server: late by the part's
        // work and waits (busy time, and the lag its loop measured for what busy time misses),
        // and by the server's loop (this process).
        const partLag = partLagMs(json(join(opts.expDir, `part${part}`, `${key}.json`)));
        expect(firstArrival - barrier).toBeLessThanOrEqual(
          busy(firstArrival) + lagMargin(partLag, lag.maxMs()) + CROSS_PROCESS_CLOCK_MS,
        );
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
    const parts = sampleBenchParts(opts.expDir);
    try {
      await runBenchmark(opts);
    } finally {
      parts.stop();
    }
    const all = json(join(opts.expDir, "all-parts", "rr40.json"));
    const clientLag = partLagMs(json(join(opts.expDir, "part1", "rr40.json")));
    const records = (await epochRecords(join(opts.expDir, "part1", "rr40.records.bin"))).sort(
      (a, b) => a.index - b.index,
    );
    expect(records).toHaveLength(60);
    // The plan itself: constant spacing, 60 arrivals 25 ms apart from the barrier on.
    const barrier = all.barrier_epoch_ms as number;
    records.forEach((r, i) => {
      expect(r.scheduledAt! - barrier).toBeCloseTo(i * 25, 2);
    });
    // Every send on its planned time, late by no more than either of two bounds allows (the
    // no-drift property itself is pinned exactly in schedulers.test.ts):
    // - twice the lag the part's loop measured (a send waits for its timer, then for its
    //   connection); this covers a loop blocked by whatever, but the monitor is blind for its
    //   first few milliseconds, where the first send pays for a new connection and for code
    //   run the first time;
    // - the time the part's main thread spent running or waiting for a CPU since the send was due
    //   (Linux tells); this covers that start, but not a thread that sleeps while it waits for
    //   others (a garbage collector's helpers, a synchronous file write).
    const lateBound = (r: (typeof records)[number]) => {
      const busy = parts.busyMs(
        1,
        r.scheduledAt! - CROSS_PROCESS_CLOCK_MS,
        r.sentAt + CROSS_PROCESS_CLOCK_MS,
      );
      return Math.max(lagMargin(clientLag, clientLag), (busy ?? 0) + SLACK_MS);
    };
    const bounds = records.map(lateBound);
    records.forEach((r, i) => {
      expect(r.sentAt).toBeGreaterThanOrEqual(r.scheduledAt! - 0.001);
      expect(r.sentAt - r.scheduledAt!).toBeLessThanOrEqual(bounds[i]!);
    });
    const median = (xs: number[]) => {
      const sorted = [...xs].sort((a, b) => a - b);
      return (sorted[(sorted.length - 1) >> 1]! + sorted[sorted.length >> 1]!) / 2;
    };
    expect(all.schedule_lag_ms.p50).toBeGreaterThanOrEqual(0);
    expect(all.schedule_lag_ms.p50).toBeLessThanOrEqual(median(bounds) + 0.01);
    // The rate over the window: sends inside it per second. The window runs from the loop's
    // decision to send the first request to its decision to send the last (59 gaps of 25 ms);
    // each decision lies between the send's planned time and its actual one, so the rate lies
    // between what the two extreme windows give.
    const first = records[0]!;
    const last = records.at(-1)!;
    const sentWithin = (from: number, to: number) =>
      records.filter((r) => r.sentAt >= from && r.sentAt <= to).length;
    const slowest = sentWithin(first.sentAt, last.scheduledAt!) / (last.sentAt - first.scheduledAt!);
    const fastest = sentWithin(first.scheduledAt!, last.sentAt) / (last.scheduledAt! - first.sentAt);
    expect(all.achieved_rate).toBeGreaterThanOrEqual(slowest * 1000);
    expect(all.achieved_rate).toBeLessThanOrEqual(fastest * 1000);
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
    const kinds = level.warnings.map((w) => w.kind);
    expect(kinds).toEqual(expect.arrayContaining(["failed_requests", "incomplete"]));
    // Five requests of a few milliseconds are also too short a level to judge, and it says so
    // (whether the window holds under 3 median requests depends on how fast the 503s came back).
    const tooShort = ["short_window", "steadiness_unjudged"];
    expect(kinds.filter((k) => k !== "failed_requests" && k !== "incomplete")).toEqual(
      expect.arrayContaining(["steadiness_unjudged"]),
    );
    for (const kind of kinds) expect(["failed_requests", "incomplete", ...tooShort]).toContain(kind);
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
