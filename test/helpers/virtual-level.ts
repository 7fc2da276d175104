import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RecordsFile } from "../../src/bench/records-file.js";
import { VirtualClock } from "../../src/clock.js";
import { Random } from "../../src/random.js";
import type { SimConfig } from "../../src/sim/config.js";
import { ServiceModel } from "../../src/sim/service.js";
import { recordsFile, type TestRequest } from "./records.js";

/**
 * One closed-loop level, as `orchestrate bench` runs it (each client keeps `concurrency` requests in
 * flight, sends the next the moment one ends, leaves its first `warmup` requests out, and records
 * its steady state as src/bench/schedulers.ts does), against the simulator's service model in
 * virtual time: seconds of load in milliseconds of CPU, the same on every run of a seed, so
 * statistical properties can be checked over many seeds. Each client writes the records file a
 * part would write, so the aggregation under test reads exactly what it reads in a real run.
 *
 * The server's own view comes with it: when every token left the service (`tokenTimes`), which is
 * what the simulator's counters know, independent of any window or attribution rule.
 */

export interface VirtualLevel {
  clients: number;
  concurrency: number;
  /** Measured requests per client. */
  requests: number;
  /** Warm-up requests per client (one wave = concurrency). */
  warmup: number;
  inputTokens: number;
  /** Output tokens of each request: a number, or drawn per request. */
  outputTokens: number | ((rng: Random) => number);
  /** Clients start up to this many ms after the barrier (real parts start a few ms apart). */
  startSkewMs?: number;
  seed: number;
}

export interface VirtualRun {
  files: RecordsFile[];
  /** Every token the service emitted for a measured request: [time ms, tokens], in time order. */
  tokenTimes: Array<[number, number]>;
}

export async function runVirtualLevel(config: SimConfig, level: VirtualLevel): Promise<VirtualRun> {
  const clock = new VirtualClock(0);
  const service = new ServiceModel(config, clock, 0);
  const rng = Random.stream(level.seed, "virtual-level");
  const prompt = new Array<number>(level.inputTokens).fill(0);
  const total = level.warmup + level.requests;
  const tokenTimes: Array<[number, number]> = [];
  const clients = Array.from({ length: level.clients }, () => ({
    requests: [] as TestRequest[],
    issued: 0,
    inFlight: 0,
    targetReachedAt: undefined as number | undefined,
    firstMeasuredAt: undefined as number | undefined,
    warmupDoneAt: Number.NEGATIVE_INFINITY,
    lastIssuedAt: 0,
  }));
  type Client = (typeof clients)[number];

  const issue = (client: Client) => {
    if (client.issued >= total) return;
    const index = client.issued++;
    const warmup = index < level.warmup;
    const sent = clock.now();
    client.inFlight += 1;
    client.lastIssuedAt = sent;
    if (client.targetReachedAt === undefined && client.inFlight === level.concurrency)
      client.targetReachedAt = sent;
    if (index === level.warmup) client.firstMeasuredAt = sent;
    const outputTokens =
      typeof level.outputTokens === "number" ? level.outputTokens : level.outputTokens(rng);
    const chunks: number[] = [];
    const tokens: number[] = [];
    service.submit(
      { promptTokenIds: prompt, outputTokens, stream: true },
      {
        onRouted: () => {},
        onRejected: (message) => {
          throw new Error(`the simulated service rejected a request: ${message}`);
        },
        onChunk: (time, count, _delivered, last) => {
          chunks.push(time);
          tokens.push(count);
          if (!warmup) tokenTimes.push([time, count]);
          if (!last) return;
          client.requests.push({ sent, chunks, tokens, prompt: level.inputTokens, warmup });
          client.inFlight -= 1;
          if (warmup) client.warmupDoneAt = Math.max(client.warmupDoneAt, time);
          issue(client);
        },
      },
    );
  };

  for (const client of clients) {
    const start = (level.startSkewMs ?? 0) * rng.next();
    clock.at(start, () => {
      for (let slot = 0; slot < level.concurrency; slot++) issue(client);
    });
  }
  clock.runUntilIdle();
  service.close();

  const dir = mkdtempSync(join(tmpdir(), "virtual-level-"));
  const files = await Promise.all(
    clients.map((client, i) => {
      const steadyFrom = Math.max(
        client.targetReachedAt ?? client.lastIssuedAt,
        client.firstMeasuredAt ?? client.lastIssuedAt,
        client.warmupDoneAt,
      );
      return recordsFile(
        client.requests,
        { part: i + 1, steady_from_us: steadyFrom * 1000, steady_until_us: client.lastIssuedAt * 1000 },
        dir,
      );
    }),
  );
  tokenTimes.sort((a, b) => a[0] - b[0]);
  return { files, tokenTimes };
}

/** Tokens the service emitted in [from, to] ms, per second. */
export function emittedRate(tokenTimes: ReadonlyArray<[number, number]>, from: number, to: number): number {
  let tokens = 0;
  for (const [t, k] of tokenTimes) if (t >= from && t <= to) tokens += k;
  return (tokens / (to - from)) * 1000;
}
