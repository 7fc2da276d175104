#!/usr/bin/env node
// Benchmark 3, aggregation: merging 1,000,000 raw records across 8 parts (the all-parts step of
// a level), each record a 250-token stream (250 chunk times), as a long run would leave them.
// Target: ≤ 5 s and ≤ 1 GiB RSS. The records are generated once into the temp folder (not
// timed); the merge runs in a fresh child process so its peak RSS is its own.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const PARTS = 8;
const RECORDS = 1_000_000;
const TOKENS = 250;
const { RECORDS_VERSION } = await import(new URL("../dist/bench/records-file.js", import.meta.url).href);
const dir = join(tmpdir(), `orchestrate-aggregate-bench-v${RECORDS_VERSION}-${RECORDS}x${TOKENS}`);
const here = fileURLToPath(import.meta.url);
const dist = (p) => new URL(`../dist/${p}`, import.meta.url).href;

if (process.argv[2] === "--generate") await generate(Number(process.argv[3]));
else if (process.argv[2] === "--merge") await merge();
else await main();

async function main() {
  mkdirSync(dir, { recursive: true });
  const paths = Array.from({ length: PARTS }, (_, i) => join(dir, `part${i + 1}.records.bin`));
  const t0 = performance.now();
  for (const [i, path] of paths.entries()) {
    if (existsSync(path)) continue;
    const r = spawnSync(process.execPath, [here, "--generate", String(i + 1)], { stdio: "inherit" });
    if (r.status !== 0) process.exit(1);
  }
  const bytes = paths.reduce((a, p) => a + statSync(p).size, 0);
  console.log(
    `records: ${RECORDS.toLocaleString()} requests × ${TOKENS} chunks in ${PARTS} parts, ` +
      `${(bytes / 2 ** 20).toFixed(0)} MiB on disk (${(bytes / RECORDS).toFixed(0)} B/request)` +
      `${performance.now() - t0 > 1000 ? `, generated in ${((performance.now() - t0) / 1000).toFixed(1)} s` : ""}`,
  );
  const r = spawnSync(process.execPath, [here, "--merge"], { encoding: "utf8" });
  if (r.status !== 0) {
    console.error(r.stderr);
    process.exit(1);
  }
  const result = JSON.parse(r.stdout);
  const ok = result.seconds <= 5 && result.maxRssMiB <= 1024;
  console.log(
    `merge:   ${result.seconds.toFixed(2)} s (target ≤ 5 s), peak RSS ${result.maxRssMiB.toFixed(0)} MiB (target ≤ 1024 MiB)  ${ok ? "OK" : "MISSED"}`,
  );
  console.log(
    `check:   ${result.completed.toLocaleString()} completed, window ${result.windowS.toFixed(1)} s, ` +
      `output ${result.outputThroughput.toFixed(0)} tok/s, ITL p50/p99 ${result.itlP50.toFixed(2)}/${result.itlP99.toFixed(2)} ms`,
  );
  if (!ok) process.exitCode = 1;
}

/** One part: RECORDS / PARTS requests, 64 in flight, 20 ms ± jitter between tokens. */
async function generate(part) {
  const { RecordsWriter } = await import(dist("bench/records-file.js"));
  const { Random } = await import(dist("random.js"));
  const rng = new Random(part);
  const perPart = RECORDS / PARTS;
  const concurrency = 64;
  const writer = await RecordsWriter.create(join(dir, `part${part}.records.bin`), 0);
  const slotFree = new Float64Array(concurrency);
  const record = {
    index: 0,
    warmup: false,
    dispatchedAt: 0,
    sentAt: 0,
    endAt: 0,
    chunkTimes: new Float64Array(TOKENS),
    chunkTokens: new Uint32Array(TOKENS).fill(1),
    chunkCount: TOKENS,
    promptTokens: 5000,
    completionTokens: TOKENS,
    chunkTokensExact: true,
    status: 200,
    doneReceived: true,
  };
  let lastSend = 0;
  for (let i = 0; i < perPart; i++) {
    const slot = i % concurrency;
    const sent = slotFree[slot] + rng.next() * 0.5;
    let t = sent + 200 + rng.exponential(100);
    for (let k = 0; k < TOKENS; k++) {
      t += k === 0 ? 0 : 18 + rng.next() * 4 + (rng.next() < 0.01 ? rng.exponential(100) : 0);
      record.chunkTimes[k] = t;
    }
    record.index = i;
    record.dispatchedAt = sent - rng.next() * 0.2;
    record.sentAt = sent;
    record.endAt = t + 0.2;
    slotFree[slot] = record.endAt;
    lastSend = Math.max(lastSend, sent);
    writer.append(record);
    if (i % 10_000 === 0) await new Promise((r) => setImmediate(r)); // let writes drain
  }
  await writer.close({
    part,
    level: "conc64",
    time_unit: "us",
    clock_origin_epoch_ms: 0,
    barrier_us: 0,
    started_us: 0,
    steady_from_us: 1000,
    steady_until_us: Math.round(lastSend * 1000),
    finished_us: Math.round(Math.max(...slotFree) * 1000),
    num_prompts: perPart,
    warmup: 0,
    mode: "concurrency",
    target: concurrency,
    interrupted: false,
  });
}

async function merge() {
  const { aggregateRecordFiles } = await import(dist("bench/aggregate.js"));
  const paths = Array.from({ length: PARTS }, (_, i) => join(dir, `part${i + 1}.records.bin`));
  const t0 = performance.now();
  const a = await aggregateRecordFiles(paths, { inputLen: 5000, outputLen: TOKENS });
  const seconds = (performance.now() - t0) / 1000;
  process.stdout.write(
    JSON.stringify({
      seconds,
      maxRssMiB: process.resourceUsage().maxRSS / 1024,
      completed: a.completed,
      windowS: a.window.seconds,
      outputThroughput: a.inWindow.outputTokens / a.window.seconds,
      itlP50: a.latency.itl.p50,
      itlP99: a.latency.itl.p99,
    }),
  );
}
