/**
 * One closed-loop benchmark level, run through the simulator's own service model (ingress
 * replicas, routing, continuous-batching engines) in virtual time: the same code the local
 * target runs on real timers, so a prediction and a simulated run can only differ by the noise
 * of real timers, never by a second model.
 *
 * Each client keeps `concurrency` requests in flight and sends the next one the moment one
 * finishes, until it has sent its share; the first `warmup` requests of each client are left out
 * of the statistics, as the load generator leaves them out.
 */
import { Samples } from "../bench/stats.js";
import { VirtualClock } from "../sim/clock.js";
import type { SimConfig } from "../sim/config.js";
import { ServiceModel } from "../sim/service.js";

export interface ClosedLoopLevel {
  clients: number;
  /** Requests each client keeps in flight. */
  concurrency: number;
  /** Measured requests each client sends (warm-up not included). */
  requestsPerClient: number;
  warmupPerClient: number;
  inputTokens: number;
  outputTokens: number;
}

/** What the load generator would report for the level, all clients pooled. */
export interface LevelPrediction {
  /** Output tokens of measured requests ÷ the level's measured window, all replicas. */
  output_throughput: number;
  median_ttft_ms: number;
  p99_ttft_ms: number;
  median_tpot_ms: number;
  mean_ttft_ms: number;
  mean_tpot_ms: number;
  /** Measured requests completed. */
  completed: number;
  /** From the level's first request (warm-up included) to its last completion. */
  duration_s: number;
}

export function simulateClosedLoopLevel(config: SimConfig, level: ClosedLoopLevel): LevelPrediction {
  if (config.engine.enable_prefix_caching) {
    // Random prompts never share a prefix, so the cache would only cost time to model.
    config = { ...config, engine: { ...config.engine, enable_prefix_caching: false } };
  }
  const clock = new VirtualClock(0);
  const service = new ServiceModel(config, clock, 0);
  const prompt = new Array<number>(level.inputTokens).fill(0);
  const ttft = new Samples();
  const tpot = new Samples();
  let measuredTokens = 0;
  let windowStart = Number.POSITIVE_INFINITY;
  let lastCompletion = 0;

  const sendNext = (client: { sent: number }) => {
    const total = level.warmupPerClient + level.requestsPerClient;
    if (client.sent >= total) return;
    const warmup = client.sent < level.warmupPerClient;
    client.sent += 1;
    const sentAt = clock.now();
    if (!warmup) windowStart = Math.min(windowStart, sentAt);
    let firstTokenAt: number | undefined;
    service.submit(
      { promptTokenIds: prompt, outputTokens: level.outputTokens, stream: true },
      {
        onRouted: () => {},
        onRejected: () => {
          throw new Error("the twin's service rejected a request; max_queued_requests is too small");
        },
        onChunk: (time, _tokens, delivered, last) => {
          firstTokenAt ??= time;
          if (!last) return;
          lastCompletion = Math.max(lastCompletion, time);
          if (!warmup) {
            ttft.add(firstTokenAt - sentAt);
            if (delivered > 1) tpot.add((time - firstTokenAt) / (delivered - 1));
            measuredTokens += delivered;
          }
          sendNext(client);
        },
      },
    );
  };

  for (let c = 0; c < level.clients; c++) {
    const client = { sent: 0 };
    for (let slot = 0; slot < level.concurrency; slot++) sendNext(client);
  }
  clock.runUntilIdle();
  service.close();

  const ttftStats = ttft.stats();
  const tpotStats = tpot.stats();
  const window = lastCompletion - windowStart;
  return {
    output_throughput: window > 0 ? (measuredTokens / window) * 1000 : 0,
    median_ttft_ms: ttftStats?.median ?? 0,
    p99_ttft_ms: ttftStats?.p99 ?? 0,
    median_tpot_ms: tpotStats?.median ?? 0,
    mean_ttft_ms: ttftStats?.mean ?? 0,
    mean_tpot_ms: tpotStats?.mean ?? 0,
    completed: ttft.count,
    duration_s: lastCompletion / 1000,
  };
}
