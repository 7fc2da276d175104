#!/usr/bin/env node
// The README's first command, measured: `orchestrate run plans/local.yaml`, its wall time, and the
// scaling efficiency it reports set against the simulator's ground truth. For every cell and level
// the server's own output throughput over the same measurement window is computed from
// cells/<service>/server-stats.json (each request's server-side first-token and finish times, its
// tokens spread evenly between them), then E(N) = T(N) / (N × T(1x)) from both.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const resultsDir = process.argv[2] ?? mkdtempSync(join(tmpdir(), "local-run-"));

const started = Date.now();
const run = spawnSync(
  process.execPath,
  [join(root, "dist/bin.js"), "run", "plans/local.yaml", "--results-dir", resultsDir],
  {
    cwd: root,
    encoding: "utf8",
  },
);
const wallS = (Date.now() - started) / 1000;
if (run.status !== 0) {
  console.error(run.stdout.slice(-2000), run.stderr.slice(-2000));
  throw new Error(`orchestrate run exited ${run.status}`);
}
const runDir = join(
  resultsDir,
  readdirSync(resultsDir).find((d) => !d.startsWith(".")),
);
const state = JSON.parse(readFileSync(join(runDir, "state.json"), "utf8"));
const plan = JSON.parse(readFileSync(join(runDir, "plan.json"), "utf8"));
console.log(
  `orchestrate run plans/local.yaml: ${wallS.toFixed(1)} s wall time, ${state.cells.length} cells, run folder ${runDir}`,
);

/** Server-side output tokens per second inside [startMs, endMs] (epoch). */
function serverThroughput(requests, startMs, endMs) {
  let tokens = 0;
  for (const r of requests) {
    if (r.status !== "ok" || r.first_token_ms === null || r.completion_tokens === 0) continue;
    const n = r.completion_tokens;
    const span = r.finish_ms - r.first_token_ms;
    for (let k = 0; k < n; k++) {
      const t = n === 1 ? r.first_token_ms : r.first_token_ms + (span * k) / (n - 1);
      if (t >= startMs && t <= endMs) tokens += 1;
    }
  }
  return tokens / ((endMs - startMs) / 1000);
}

// measured[image][scale][level] = { client, server }
const measured = {};
for (const cell of state.cells) {
  const exp = join(runDir, "cells", cell.serviceName);
  const manifest = JSON.parse(readFileSync(join(exp, "experiment.json"), "utf8"));
  const image = manifest.labels.image;
  const scale = manifest.labels.scale;
  const statsPath = join(exp, "server-stats.json");
  if (!existsSync(statsPath)) throw new Error(`${statsPath} is missing`);
  const { requests } = JSON.parse(readFileSync(statsPath, "utf8"));
  // With repeats each run of the sweep has its own window (repeatR/all-parts/); both sides are
  // then the mean over the repeats, as the report's T(N) is.
  const repeats = manifest.repeats ?? 1;
  const dirs = repeats === 1 ? [exp] : Array.from({ length: repeats }, (_, i) => join(exp, `repeat${i + 1}`));
  for (const level of manifest.levels) {
    let client = 0;
    let server = 0;
    for (const dir of dirs) {
      const agg = JSON.parse(readFileSync(join(dir, "all-parts", `${level.key}.json`), "utf8"));
      const start = agg.barrier_epoch_ms + agg.window.start_ms;
      const end = agg.barrier_epoch_ms + agg.window.end_ms;
      client += agg.output_throughput / dirs.length;
      server += serverThroughput(requests, start, end) / dirs.length;
    }
    measured[image] ??= {};
    measured[image][scale] ??= {};
    measured[image][scale][level.key] = { client, server };
  }
}

const pct = (x) => `${(100 * x).toFixed(1)}%`;
for (const image of Object.keys(measured)) {
  console.log(
    `\n${image}: output tok/s (client | server) and efficiency E(N) = T(N) / (N × T(1x)) (client | server)`,
  );
  const scales = Object.keys(measured[image])
    .map(Number)
    .sort((a, b) => a - b);
  const base = scales[0];
  const levels = Object.keys(measured[image][base]);
  console.log(`  level   ${scales.map((s) => `x${s}`.padEnd(34)).join("")}`);
  for (const level of levels) {
    const cells = scales.map((s) => {
      const m = measured[image][s][level];
      const b = measured[image][base][level];
      const eClient = m.client / ((s / base) * b.client);
      const eServer = m.server / ((s / base) * b.server);
      return `${m.client.toFixed(0).padStart(6)} | ${m.server.toFixed(0).padStart(6)}  E ${pct(eClient)} | ${pct(eServer)}`.padEnd(
        34,
      );
    });
    console.log(`  ${level.padEnd(8)}${cells.join("")}`);
  }
  const worst = Math.max(
    ...scales.flatMap((s) =>
      levels.map((l) => Math.abs(measured[image][s][l].client / measured[image][s][l].server - 1)),
    ),
  );
  console.log(`  largest client vs server throughput difference: ${pct(worst)}`);
}
console.log(
  `\nplan: ${plan.images.length} images × ${plan.scales.length} scales, levels ${plan.benchmark.concurrency.join(", ")} per client`,
);
