#!/usr/bin/env node
// The README's first command, measured: `orchestrate run plans/local.yaml`, its wall time, and the
// scaling efficiency it reports set against the simulator's own record of what it did. Run twice:
// with the plan's levels (3 × concurrency, 3 repeats) and with the seed's length (10 ×
// concurrency, 1 repeat), so the short levels' edge effects show beside the long ones.
//
// For every cell and level, over the window the client measured (all-parts `window`), the server's
// side comes from cells/<service>/server-stats.json, each request's own server-side times:
//   server   each request's tokens spread over its time at the server (arrival → finish) and
//            counted by the share inside the window: the client's rule on the server's clock;
//   emitted  each request's tokens spread over first token → finish: when the server sent them.
// E(N) = T(N) / (N × T(1x)) from each. Usage: node bench/local-run.bench.mjs [plan|long|both] [DIR]
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const which = process.argv[2] ?? "both";
const base = process.argv[3] ?? mkdtempSync(join(tmpdir(), "local-run-"));
if (!["plan", "long", "both"].includes(which)) throw new Error(`unknown length ${which}: plan, long or both`);

// The copy lives in a temporary folder: a profile given by path must point back into plans/; one
// given by name (a shipped profile) is found wherever the plan is.
const planText = readFileSync(join(root, "plans/local.yaml"), "utf8").replace(/profile: (\S+)/, (line, p) =>
  p.includes("/") || p.endsWith(".json") ? `profile: ${resolve(root, "plans", p)}` : line,
);
const variants = {
  plan: { label: "the plan's levels (3 × concurrency, 3 repeats)", text: planText },
  long: {
    label: "the seed's length (10 × concurrency, 1 repeat)",
    text: planText
      .replace(/prompts_per_concurrency: \d+/, "prompts_per_concurrency: 10")
      .replace(/repeats: \d+/, "repeats: 1"),
  },
};
const worst = {};
for (const name of which === "both" ? ["plan", "long"] : [which]) {
  const dir = join(base, name);
  mkdirSync(dir, { recursive: true });
  const planPath = join(dir, "local.yaml");
  writeFileSync(planPath, variants[name].text);
  console.log(`\n## ${variants[name].label}`);
  worst[name] = runAndCompare(planPath, join(dir, "results"));
}
console.log("\nlargest |E(N) client − E(N) server| in points:");
for (const [name, points] of Object.entries(worst)) {
  console.log(
    `  ${variants[name].label}: ${points.healthyCompared > 0 ? points.healthy.toFixed(2) : "no level without a client-bound client to compare"} (levels where a client was client-bound: ${points.clientBound.toFixed(2)})`,
  );
}

function runAndCompare(planPath, resultsDir) {
  const started = Date.now();
  const run = spawnSync(
    process.execPath,
    [join(root, "dist/bin.js"), "run", planPath, "--results-dir", resultsDir],
    { cwd: root, encoding: "utf8" },
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
  console.log(
    `orchestrate run: ${wallS.toFixed(1)} s wall time, ${state.cells.length} cells, run folder ${runDir}`,
  );

  // measured[image][scale][level] = { client, server, emitted }, each the mean over repeats.
  const measured = {};
  for (const cell of state.cells) {
    const exp = join(runDir, "cells", cell.serviceName);
    const manifest = JSON.parse(readFileSync(join(exp, "experiment.json"), "utf8"));
    const { image, scale } = manifest.labels;
    const statsPath = join(exp, "server-stats.json");
    if (!existsSync(statsPath)) throw new Error(`${statsPath} is missing`);
    const { requests } = JSON.parse(readFileSync(statsPath, "utf8"));
    const repeats = manifest.repeats ?? 1;
    const dirs =
      repeats === 1 ? [exp] : Array.from({ length: repeats }, (_, i) => join(exp, `repeat${i + 1}`));
    for (const level of manifest.levels) {
      const sums = { client: 0, server: 0, emitted: 0, clientBound: false };
      for (const dir of dirs) {
        const agg = JSON.parse(readFileSync(join(dir, "all-parts", `${level.key}.json`), "utf8"));
        const start = agg.barrier_epoch_ms + agg.window.start_ms;
        const end = agg.barrier_epoch_ms + agg.window.end_ms;
        sums.client += agg.output_throughput / dirs.length;
        // A level the client could not drive measures the client: its E(N) is no test of the rule.
        sums.clientBound ||= agg.client_verdict === "client_bound";
        sums.server += serverRate(requests, start, end, "arrival_ms") / dirs.length;
        sums.emitted += serverRate(requests, start, end, "first_token_ms") / dirs.length;
      }
      measured[image] ??= {};
      measured[image][scale] ??= {};
      measured[image][scale][level.key] = sums;
    }
  }

  // The base scale compares with itself (0 points by construction): only larger scales count.
  const worstPoints = { healthy: 0, clientBound: 0, healthyCompared: 0 };
  const pct = (x) => `${(100 * x).toFixed(1)}%`;
  const cellText = (s, m, e, bound) =>
    `x${s} ${m.client.toFixed(0).padStart(6)} | ${m.server.toFixed(0).padStart(6)}  E ${pct(e("client"))} | ${pct(e("server"))} | ${pct(e("emitted"))}${bound ? " C" : "  "}`;
  for (const image of Object.keys(measured)) {
    console.log(
      `\n${image}: output tok/s client | server, and E(N) client | server | emitted (C: a client was client-bound on either side)`,
    );
    const scales = Object.keys(measured[image])
      .map(Number)
      .sort((a, b) => a - b);
    const first = scales[0];
    for (const level of Object.keys(measured[image][first])) {
      const cells = scales.map((s) => {
        const m = measured[image][s][level];
        const b = measured[image][first][level];
        const e = (k) => m[k] / ((s / first) * b[k]);
        const points = 100 * Math.abs(e("client") - e("server"));
        const bound = m.clientBound || b.clientBound;
        if (s === first) return cellText(s, m, e, bound);
        if (bound) worstPoints.clientBound = Math.max(worstPoints.clientBound, points);
        else {
          worstPoints.healthy = Math.max(worstPoints.healthy, points);
          worstPoints.healthyCompared += 1;
        }
        return cellText(s, m, e, bound);
      });
      console.log(`  ${level.padEnd(7)} ${cells.join("   ")}`);
    }
  }
  return worstPoints;
}

/**
 * Server-side output tokens per second in [startMs, endMs] (epoch): each finished request's tokens
 * spread evenly from `from` (its arrival, or its first token) to its finish, counted for the part
 * inside the window.
 */
function serverRate(requests, startMs, endMs, from) {
  let tokens = 0;
  for (const r of requests) {
    if (r.status !== "ok" || r[from] === null || r.completion_tokens === 0) continue;
    const a = r[from];
    const b = r.finish_ms;
    const inside = Math.max(0, Math.min(b, endMs) - Math.max(a, startMs));
    if (b > a) tokens += (r.completion_tokens * inside) / (b - a);
    else if (b >= startMs && b <= endMs) tokens += r.completion_tokens;
  }
  return tokens / ((endMs - startMs) / 1000);
}
