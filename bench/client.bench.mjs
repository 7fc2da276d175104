#!/usr/bin/env node
// Benchmark 1, client ceiling: one client process (one part, driven by the real coordinator)
// against a local server, in its own process, that streams one token every 20 ms per stream,
// at 256, 1024 and 2048 concurrent streams. Reports the chunk rate the client consumed against
// the rate the server emitted over the same steady-state window, the client's CPU and its
// event-loop lag p99. Target: at 1024 streams, ≥ 99% of the offered rate with lag p99 ≤ 20 ms,
// on this 2-core machine with the server beside it, on /v1/completions and on /v1/chat/completions
// (ENDPOINTS=completions,chat by default; STREAMS and DURATION_S narrow the run). The same at 1024
// streams with a replayed trace (REPLAY=1024): arrivals evenly spaced so that 3 s streams keep 1024
// in flight.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTokenServer } from "./server-process.mjs";

const { runBenchmark } = await import(new URL("../dist/bench/coordinator.js", import.meta.url).href);

const GAP_MS = 20;
const STREAMS = (process.env.STREAMS ?? "256,1024,2048").split(",").filter(Boolean).map(Number);
const DURATION_S = Number(process.env.DURATION_S ?? 10);
const ENDPOINTS = (process.env.ENDPOINTS ?? "completions,chat").split(",").filter(Boolean);
const REPLAY = (process.env.REPLAY ?? "1024").split(",").filter(Boolean).map(Number);
const server = await startTokenServer(["--gap-ms", String(GAP_MS), "--first-ms", String(GAP_MS)]);
const root = mkdtempSync(join(tmpdir(), "client-bench-"));
const rows = [];

try {
  for (const endpoint of ENDPOINTS)
    for (const streams of STREAMS) rows.push(await measure(streams, "concurrency", endpoint));
  for (const streams of REPLAY) rows.push(await measure(streams, "replay", "completions"));
} finally {
  server.stop();
  rmSync(root, { recursive: true, force: true });
}

console.log(
  "case                 streams  offered/s  server sent/s  consumed/s  consumed/sent  client CPU  loop lag p99  ITL p50/p99 ms  failed  verdict",
);
for (const r of rows) {
  console.log(
    [
      `${r.mode}/${r.endpoint}`.padEnd(19),
      String(r.streams).padStart(7),
      r.offered.toFixed(0).padStart(9),
      r.sent.toFixed(0).padStart(13),
      r.consumed.toFixed(0).padStart(10),
      `${(100 * r.ratio).toFixed(2)}%`.padStart(13),
      `${r.cpu.toFixed(0)}%`.padStart(10),
      `${r.lagP99.toFixed(1)} ms`.padStart(12),
      `${r.itlP50.toFixed(1)}/${r.itlP99.toFixed(1)}`.padStart(14),
      String(r.failed).padStart(6),
      ` ${r.verdict}`,
    ].join("  "),
  );
}
for (const r of rows.filter((r) => r.failed > 0))
  console.log(`${r.mode}/${r.endpoint} ${r.streams}: failed ${JSON.stringify(r.errors)}`);
for (const target of rows.filter((r) => r.streams === 1024)) {
  const ok = target.ratio >= 0.99 && target.lagP99 <= 20;
  console.log(
    `target at 1024 streams (${target.mode}, ${target.endpoint}): consumed ≥ 99% of sent (${(100 * target.ratio).toFixed(2)}%), loop lag p99 ≤ 20 ms (${target.lagP99.toFixed(1)} ms): ${ok ? "OK" : "MISSED"}`,
  );
  if (!ok) process.exitCode = 1;
}

/**
 * A trace that keeps `streams` requests in flight: each streams for 3 s, so one arrives every
 * 3 s / streams, for DURATION_S (Mooncake JSONL, as `--trace` reads it).
 */
function writeTrace(path, streams, outputTokens) {
  const streamMs = GAP_MS * outputTokens;
  const gapMs = streamMs / streams;
  // The warm-up's 3 s and its last streams' 3 s, then DURATION_S of steady state.
  const count = Math.floor((DURATION_S * 1000 + 2 * streamMs) / gapMs);
  const lines = Array.from({ length: count }, (_, i) =>
    JSON.stringify({ timestamp: i * gapMs, input_length: 32, output_length: outputTokens }),
  );
  writeFileSync(path, `${lines.join("\n")}\n`);
}

async function measure(streams, mode, endpoint) {
  await server.stats(true);
  const samples = [];
  const poll = setInterval(() => {
    server.stats().then(
      (s) => samples.push({ at: s.at, events: s.eventsWritten }),
      () => {},
    );
  }, 250);
  const expDir = join(root, `${mode}-${endpoint}-${streams}`);
  // 3 s streams: several rounds per slot in the level, so the window holds a steady state.
  const outputTokens = Math.round(3000 / GAP_MS);
  const common = {
    baseUrl: server.url,
    clients: 1,
    inputTokens: 32,
    outputTokens,
    endpoint,
    // Chat prompts are words of one token each; the bench server counts words, not tokens.
    ...(endpoint === "chat" ? { tokenizer: "o200k_base" } : {}),
    expDir,
  };
  try {
    if (mode === "replay") {
      const trace = join(root, `trace${streams}.jsonl`);
      writeTrace(trace, streams, outputTokens);
      // The first `streams` rows (the first 3 s, while the streams in flight climb to their number)
      // are warm-up, so the window opens once all of them are over: a steady state, as above.
      await runBenchmark({
        ...common,
        mode,
        levels: [1],
        warmup: streams,
        workloadFile: { kind: "trace", format: "mooncake", path: trace },
      });
    } else {
      await runBenchmark({ ...common, mode, levels: [streams], durationS: DURATION_S });
    }
  } finally {
    clearInterval(poll);
  }
  const key = mode === "replay" ? "speed1" : `conc${streams}`;
  const all = JSON.parse(readFileSync(join(expDir, "all-parts", `${key}.json`), "utf8"));
  const from = all.barrier_epoch_ms + all.window.start_ms;
  const to = all.barrier_epoch_ms + all.window.end_ms;
  const sentInWindow = eventsAt(samples, to) - eventsAt(samples, from);
  const windowS = all.window.length_s;
  const client = all.clients[0];
  return {
    endpoint,
    mode,
    streams,
    offered: (streams * 1000) / GAP_MS,
    sent: sentInWindow / windowS,
    consumed: all.in_window.output_tokens / windowS,
    ratio: all.in_window.output_tokens / sentInWindow,
    cpu: client.cpu_percent,
    lagP99: client.event_loop_lag_p99_ms,
    itlP50: all.p50_itl_ms,
    itlP99: all.p99_itl_ms,
    failed: all.failed,
    errors: all.errors_by_kind,
    verdict: all.client_verdict,
  };
}

/** The server's event counter at time t, interpolated between the polled samples. */
function eventsAt(samples, t) {
  const sorted = [...samples].sort((a, b) => a.at - b.at);
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1];
    const b = sorted[i];
    if (t >= a.at && t <= b.at) return a.events + ((b.events - a.events) * (t - a.at)) / (b.at - a.at);
  }
  throw new Error("window outside the polled samples");
}
