import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runBenchmark } from "../../../src/bench/coordinator.js";
import type { SimConfigInput } from "../../../src/sim/config.js";
import { type RunningSimulator, startSimulator } from "../../../src/sim/index.js";
import { CROSS_PROCESS_CLOCK_MS, lagMargin, partLagMs, watchLoopLag } from "../../helpers/timing-margin.js";

/**
 * The client's window rates against the simulator's own server-side record of every request
 * (`/sim/stats`: when it arrived, when it finished, its tokens), on real timers, at 1, 2 and 4
 * clients and replicas, with levels as short as the local plan's (3 requests per stream after a
 * warm-up wave) and a prefill that makes the closed loop move in waves. The server's side is
 * counted by the same rule on its own clock, so the two differ only by where each side saw a
 * request start and end: by network delivery and by how late each loop ran.
 */

let sim: RunningSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const STREAMS = 8;
const OUTPUT = 64;
const SIM: SimConfigInput = {
  engine: {
    decode_base_ms: 8,
    decode_per_seq_ms: 0.08,
    prefill_ms_per_token: 0.02,
    stream_batching_interval_ms: 0,
  },
  ingress: { request_overhead_ms: 0, chunk_cost_ms: 0 },
};
const json = (path: string) => JSON.parse(readFileSync(path, "utf8")) as Record<string, any>;

interface Measured {
  client: { output: number; requests: number };
  server: { output: number; requests: number };
  /** How far the two may differ, relative, from the loops' measured lag and the window's length. */
  tolerance: number;
}

async function measure(scale: number): Promise<Measured> {
  sim = await startSimulator({ ...SIM, replicas: scale, seed: scale });
  const expDir = join(mkdtempSync(join(tmpdir(), "sim-counters-")), "exp");
  const lag = watchLoopLag();
  await runBenchmark({
    baseUrl: sim.url,
    clients: scale,
    mode: "concurrency",
    levels: [STREAMS],
    inputTokens: 512,
    outputTokens: OUTPUT,
    promptsPerConcurrency: 3,
    expDir,
    seed: 16,
  });
  lag.stop();
  const all = json(join(expDir, "all-parts", `conc${STREAMS}.json`));
  const from = all.barrier_epoch_ms + all.window.start_ms;
  const to = all.barrier_epoch_ms + all.window.end_ms;
  let tokens = 0;
  let requests = 0;
  for (const r of sim.stats().requests) {
    if (r.status !== "ok" || r.finish_ms <= r.arrival_ms) continue;
    const share =
      Math.max(0, Math.min(r.finish_ms, to) - Math.max(r.arrival_ms, from)) / (r.finish_ms - r.arrival_ms);
    tokens += share * r.completion_tokens;
    requests += share;
  }
  const seconds = (to - from) / 1000;
  const clientLag = Math.max(
    ...Array.from({ length: scale }, (_, i) =>
      partLagMs(json(join(expDir, `part${i + 1}`, `conc${STREAMS}.json`))),
    ),
  );
  // Each edge of the window cuts the requests in flight; a request's start and end as the client
  // saw them can sit away from the server's by a delivery and a loop's lag, which moves its share
  // by that much of its duration. Over the window that is at most this much of the rate.
  const margin = lagMargin(lag.maxMs(), clientLag) + CROSS_PROCESS_CLOCK_MS;
  return {
    client: { output: all.output_throughput, requests: all.request_throughput },
    server: { output: tokens / seconds, requests: requests / seconds },
    tolerance: (2 * margin) / (seconds * 1000),
  };
}

describe("the window against the simulator's own counters", { timeout: 120_000 }, () => {
  it("agrees at 1, 2 and 4 clients on output and request throughput, and on E(N)", async () => {
    const measured: Record<number, Measured> = {};
    for (const scale of [1, 2, 4]) {
      const m = await measure(scale);
      measured[scale] = m;
      await sim?.close();
      sim = undefined;
      expect(Math.abs(m.client.output / m.server.output - 1), `x${scale} output`).toBeLessThanOrEqual(
        m.tolerance,
      );
      expect(Math.abs(m.client.requests / m.server.requests - 1), `x${scale} requests`).toBeLessThanOrEqual(
        m.tolerance,
      );
      expect(m.client.output / m.client.requests).toBeCloseTo(OUTPUT, 6);
    }
    const base = measured[1]!;
    const rows: string[] = [];
    for (const scale of [2, 4]) {
      const m = measured[scale]!;
      const eClient = m.client.output / (scale * base.client.output);
      const eServer = m.server.output / (scale * base.server.output);
      rows.push(`E(${scale}x) client ${(eClient * 100).toFixed(1)}% server ${(eServer * 100).toFixed(1)}%`);
      expect(Math.abs(eClient / eServer - 1)).toBeLessThanOrEqual(m.tolerance + base.tolerance);
    }
    if (process.env.ORCHESTRATE_PRINT_TABLES) console.log(rows.join("\n"));
  });
});
