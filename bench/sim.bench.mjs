#!/usr/bin/env node
// Benchmarks of the simulator (src/sim), printed against their targets:
//
//   cost      CPU of 8 LLM replicas × 256 running sequences, one token per 20 ms each
//             (102,400 tokens/s): the model alone (engines and ingress on real timers, no
//             sockets), then the whole server with Ray Serve's default 50 ms stream batching, and
//             with every token its own SSE chunk (stream batching 0, the seed benchmark's setting).
//             Target: under half a core (0.5 CPU-seconds per second).
//   fidelity  delivered token rate against the configured one, counted by the client.
//             Target: within 1%.
//
// The simulator runs in this process (from dist/); the load comes from a separate light client
// process (bench/lib/sim-stream-client.mjs) whose CPU is not counted. Run: npm run bench -- sim
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { monotonicClock } from "../dist/clock.js";
import { parseSimConfig } from "../dist/sim/config.js";
import { ServiceModel } from "../dist/sim/service.js";
import { startSimulator } from "../dist/sim/simulator.js";

const here = dirname(fileURLToPath(import.meta.url));
const WINDOW_MS = Number(process.env.SIM_BENCH_WINDOW_MS ?? 10_000);
const results = [];

async function scenario({ name, replicas, seqsPerReplica, stepMs, batchingMs, target }) {
  const streams = replicas * seqsPerReplica;
  const sim = await startSimulator({
    replicas,
    ingress_replicas: 2 * replicas,
    engine: {
      max_num_seqs: seqsPerReplica,
      kv_cache_tokens: 16_000_000, // room for every stream to run to its (long) max_tokens
      max_ongoing_requests: seqsPerReplica, // exactly this many per replica, whatever the routing
      decode_base_ms: stepMs, // one token per sequence per step, whatever the batch size
      decode_per_seq_ms: 0,
      prefill_ms_per_token: 0,
      stream_batching_interval_ms: batchingMs,
    },
    // Cheap enough never to be the bottleneck: this measures the simulator, not its ingress model.
    ingress: { request_overhead_ms: 0.01, chunk_cost_ms: 0.001 },
    stats_capacity: 1_000,
  });
  const client = spawn(
    process.execPath,
    [join(here, "lib", "sim-stream-client.mjs"), sim.url, String(streams), "30000"],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const reports = createInterface({ input: client.stdout });
  let latest;
  reports.on("line", (line) => {
    latest = JSON.parse(line);
  });
  try {
    await until(() => sim.stats().total.running === streams, 30_000, `${streams} running sequences`);
    await sleep(1_500); // let the first burst of prefills and connection set-up pass
    const startClient = await nextReport(reports);
    const startCpu = process.cpuUsage();
    const startWall = performance.now();
    const startTokens = sim.stats().total.tokens_generated;
    await sleep(WINDOW_MS);
    const cpu = process.cpuUsage(startCpu);
    const wall = performance.now() - startWall;
    const tokens = sim.stats().total.tokens_generated - startTokens;
    const endClient = await nextReport(reports);
    const configured = (streams * 1000) / stepMs;
    const delivered = ((endClient.events - startClient.events) * 1000) / (endClient.t - startClient.t);
    const cores = (cpu.user + cpu.system) / 1000 / wall;
    results.push({
      name,
      streams,
      configured,
      engineRate: (tokens * 1000) / wall,
      delivered,
      cores,
      user: cpu.user / 1000 / wall,
      system: cpu.system / 1000 / wall,
      target,
      batchingMs,
      clientCores: (endClient.cpuMs - startClient.cpuMs) / (endClient.t - startClient.t),
    });
    void latest;
  } finally {
    client.kill("SIGKILL");
    await sim.close();
  }
}

function nextReport(lines) {
  return new Promise((resolve) => lines.once("line", (line) => resolve(JSON.parse(line))));
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function until(check, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const fmt = (n, digits = 0) =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

/**
 * The model alone, without HTTP: engines and ingress on real timers, tokens counted by a no-op
 * listener. This is the cost of simulating 2,048 sequences, apart from writing them to sockets.
 */
async function modelOnly({ name, replicas, seqsPerReplica, stepMs, target }) {
  const config = parseSimConfig({
    replicas,
    engine: {
      max_num_seqs: seqsPerReplica,
      max_ongoing_requests: seqsPerReplica,
      kv_cache_tokens: 16_000_000,
      decode_base_ms: stepMs,
      decode_per_seq_ms: 0,
      prefill_ms_per_token: 0,
      stream_batching_interval_ms: 0,
    },
    ingress: { request_overhead_ms: 0.01, chunk_cost_ms: 0.001 },
  });
  const model = new ServiceModel(config, monotonicClock);
  let delivered = 0;
  const listener = { onRouted() {}, onRejected() {}, onChunk: (_t, tokens) => (delivered += tokens) };
  const streams = replicas * seqsPerReplica;
  for (let i = 0; i < streams; i++) {
    model.submit({ promptTokenIds: [1, 2, 3, 4, 5, 6, 7, 8], outputTokens: 30_000, stream: true }, listener);
  }
  await sleep(1_000);
  const startCpu = process.cpuUsage();
  const startWall = performance.now();
  const startDelivered = delivered;
  await sleep(WINDOW_MS);
  const cpu = process.cpuUsage(startCpu);
  const wall = performance.now() - startWall;
  model.close();
  results.push({
    name,
    streams,
    configured: (streams * 1000) / stepMs,
    delivered: ((delivered - startDelivered) * 1000) / wall,
    engineRate: ((delivered - startDelivered) * 1000) / wall,
    cores: (cpu.user + cpu.system) / 1000 / wall,
    user: cpu.user / 1000 / wall,
    system: cpu.system / 1000 / wall,
    target,
  });
}

await modelOnly({
  name: "model only (no HTTP): 8 × 256",
  replicas: 8,
  seqsPerReplica: 256,
  stepMs: 20,
  target: 0.5,
});
await scenario({
  name: "HTTP, 50 ms stream batching: 8 × 256",
  replicas: 8,
  seqsPerReplica: 256,
  stepMs: 20,
  batchingMs: 50,
  target: 0.5,
});
await scenario({
  name: "HTTP, a chunk per token: 8 × 256",
  replicas: 8,
  seqsPerReplica: 256,
  stepMs: 20,
  batchingMs: 0,
  target: 0.5,
});
await scenario({
  name: "HTTP, a chunk per token: 4 × 64",
  replicas: 4,
  seqsPerReplica: 64,
  stepMs: 10,
  batchingMs: 0,
  target: 0.5,
});

let met = 0;
let checked = 0;
const load = (await import("node:os")).loadavg()[0];
console.log(
  `machine load average (1 min) at the end: ${fmt(load, 2)}; the figures assume the simulator gets the CPU it asks for`,
);
console.log(`window ${WINDOW_MS / 1000} s per scenario; the load client runs in its own process\n`);
for (const r of results) {
  const error = r.delivered / r.configured - 1;
  const cpuOk = r.cores < r.target;
  const rateOk = Math.abs(error) < 0.01;
  met += Number(cpuOk) + Number(rateOk);
  checked += 2;
  console.log(`${r.name} (${fmt(r.streams)} streams, ${fmt(r.configured)} tokens/s configured)`);
  console.log(
    `  simulator CPU   ${fmt(r.cores, 3)} cores (user ${fmt(r.user, 3)}, system ${fmt(r.system, 3)})` +
      `   target < ${r.target}   ${cpuOk ? "ok" : "MISSED"}` +
      (r.clientCores === undefined ? "" : `   (load client: ${fmt(r.clientCores, 2)} cores)`),
  );
  console.log(
    `  token rate      ${fmt(r.delivered)} tokens/s delivered (${error >= 0 ? "+" : ""}${fmt(error * 100, 2)}%), ` +
      `engine ${fmt(r.engineRate)}   target within 1%   ${rateOk ? "ok" : "MISSED"}`,
  );
}
// Missed targets are reported, not turned into a failure: on a shared 2-core machine the
// one-chunk-per-token case is bound by the kernel's loopback TCP cost and by the CPU the load
// client takes (see the README), which no change to the simulator removes.
console.log(`\ntargets met: ${met} of ${checked}`);
