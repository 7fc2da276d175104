import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBenchmark } from "../../../src/bench/coordinator.js";
import { Random } from "../../../src/random.js";
import {
  completionEvent,
  type Handler,
  sse,
  startTestServer,
  type TestServer,
  usageEvent,
} from "../../helpers/http-server.js";
import {
  CROSS_PROCESS_CLOCK_MS,
  lagMargin,
  partLagMs,
  SLACK_MS,
  watchLoopLag,
} from "../../helpers/timing-margin.js";

/**
 * A trace replayed against the truth server: every row must arrive once, at the trace's time
 * divided by speed × clients after the level's barrier. The trace is 2,500 Poisson arrivals at
 * 500 req/s (5 s, integer-ms timestamps as Mooncake writes them); two clients replay it at speed
 * 1, so together they send 1,000 req/s for 2.5 s. The server's own arrival times (its clock, not
 * the client's) are compared with the trace: never early, every one within the worst loop lag its
 * processes measured meanwhile (test/helpers/timing-margin.ts: a send can only be late because a
 * loop could not run), and within 5 ms at the 99th percentile when those loops ran freely.
 * The server answers each request with its whole stream in one write, so that at 1,000 req/s on
 * two shared cores it is the client's schedule that is measured, not the server's backlog.
 */

const ROWS = 2500;
const BASE_RATE = 500;
const CLIENTS = 2;

/** Arrival time (epoch ms, the server's clock) by x-request-id. */
const arrivals = new Map<string, number>();
const answerAtOnce: Handler = (req, res) => {
  arrivals.set(String(req.headers["x-request-id"]), performance.timeOrigin + req.arrivedAt);
  const { max_tokens: tokens } = JSON.parse(req.body) as { max_tokens: number };
  const chunks = Array.from({ length: tokens }, (_, i) =>
    completionEvent("x", { finish: i === tokens - 1 ? "length" : null }),
  );
  res.writeHead(200, { "content-type": "text/event-stream" });
  res.end(sse(...chunks, usageEvent(8, tokens), "[DONE]"));
};

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer(answerAtOnce);
});
afterAll(() => server.close());

function writeTrace(path: string): number[] {
  const rng = new Random(19);
  const times: number[] = [];
  let t = 0;
  const lines: string[] = [];
  for (let i = 0; i < ROWS; i++) {
    t += rng.exponential(1000 / BASE_RATE);
    const timestamp = Math.round(t);
    times.push(timestamp);
    lines.push(JSON.stringify({ timestamp, input_length: 8, output_length: 2, hash_ids: [i] }));
  }
  writeFileSync(path, `${lines.join("\n")}\n`);
  return times;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

describe("trace replay against the truth server", { timeout: 60_000 }, () => {
  it("sends every row once, within 5 ms p99 of the trace's schedule at 1,000 req/s", async () => {
    const dir = mkdtempSync(join(tmpdir(), "replay-schedule-"));
    const tracePath = join(dir, "trace.jsonl");
    const times = writeTrace(tracePath);
    const expDir = join(dir, "exp");
    const serverLag = watchLoopLag();
    const serverLagP99 = monitorEventLoopDelay({ resolution: 2 });
    serverLagP99.enable();
    await runBenchmark({
      baseUrl: server.url,
      clients: CLIENTS,
      mode: "replay",
      levels: [1],
      inputTokens: 8,
      outputTokens: 2,
      workloadFile: { kind: "trace", format: "mooncake", path: tracePath },
      expDir,
      seed: 19,
    });
    serverLag.stop();
    serverLagP99.disable();
    const json = (path: string) => JSON.parse(readFileSync(path, "utf8"));
    const all = json(join(expDir, "all-parts", "speed1.json"));
    const parts = [1, 2].map((part) => json(join(expDir, `part${part}`, "speed1.json")));
    expect(all.completed).toBe(ROWS);
    const barrier = all.barrier_epoch_ms as number;

    const late: number[] = [];
    const rows = new Set<number>();
    for (const [id, arrivedEpochMs] of arrivals) {
      const match = /-p(\d+)-speed1-(\d+)$/.exec(id);
      if (!match) continue;
      const row = Number(match[2]) * CLIENTS + Number(match[1]) - 1;
      rows.add(row);
      late.push(arrivedEpochMs - (barrier + times[row]! / CLIENTS));
    }
    expect(rows.size).toBe(ROWS);
    late.sort((a, b) => a - b);
    const p99 = percentile(late, 0.99);
    const lagP99 =
      Math.max(...parts.map((p) => p.client.event_loop_lag_p99_ms as number)) +
      serverLagP99.percentile(99) / 1e6;
    const worstLag = lagMargin(Math.max(...parts.map(partLagMs)), serverLag.maxMs());
    if (process.env.ORCHESTRATE_PRINT_TABLES)
      console.log(
        `replay at 1,000 req/s: lateness p50 ${percentile(late, 0.5).toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${late.at(-1)!.toFixed(2)} ms; loop lag p99 ${lagP99.toFixed(1)} ms (the server's own ${(serverLagP99.percentile(99) / 1e6).toFixed(1)}), worst ${worstLag.toFixed(1)} ms`,
      );
    // Never before its time (the clocks of two processes may differ by the allowance).
    expect(late[0]).toBeGreaterThanOrEqual(-CROSS_PROCESS_CLOCK_MS);
    // The 5 ms p99 is judged where the processes could run their loops (lag p99 within the slack);
    // on a busy machine (on 2 cores, the server and two clients at 1,000 req/s already make one)
    // a stall delays every send behind it, which only the worst-case bound below covers, so the
    // p99 is then reported, not judged.
    if (lagP99 <= SLACK_MS) expect(p99).toBeLessThanOrEqual(5);
    else
      console.warn(
        `replay p99 ${p99.toFixed(1)} ms not judged: loop lag p99 ${lagP99.toFixed(1)} ms (the processes' loops did not run freely: the machine was busy, this test's own server and clients included)`,
      );
    expect(late.at(-1)).toBeLessThanOrEqual(worstLag + CROSS_PROCESS_CLOCK_MS);
  });
});
