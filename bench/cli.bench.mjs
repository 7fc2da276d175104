#!/usr/bin/env node
// Start-up cost of the CLI: `orchestrate --help` (target < 0.3 s) and
// `orchestrate render plans/scaling.yaml` (target < 1 s), median of repeated runs.
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const cli = join(root, "dist", "bin.js");
const out = mkdtempSync(join(tmpdir(), "render-bench-"));
const RUNS = 15;

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function time(args) {
  const samples = [];
  for (let i = 0; i < RUNS + 2; i++) {
    const start = process.hrtime.bigint();
    const result = spawnSync(process.execPath, [cli, ...args], { cwd: root, stdio: "ignore" });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (result.status !== 0) throw new Error(`orchestrate ${args.join(" ")} exited ${result.status}`);
    if (i >= 2) samples.push(ms); // the first runs warm the file cache
  }
  return { median: median(samples), max: Math.max(...samples) };
}

const cases = [
  { name: "orchestrate --help", args: ["--help"], targetMs: 300 },
  {
    name: "orchestrate render plans/scaling.yaml",
    args: ["render", "plans/scaling.yaml", "--out", out],
    targetMs: 1000,
  },
];
let missed = 0;
for (const c of cases) {
  const t = time(c.args);
  const ok = t.median < c.targetMs;
  if (!ok) missed += 1;
  console.log(
    `${c.name.padEnd(40)} median ${t.median.toFixed(0).padStart(4)} ms  max ${t.max.toFixed(0).padStart(4)} ms  ` +
      `(target < ${c.targetMs} ms: ${ok ? "met" : "MISSED"})`,
  );
}
process.exit(missed === 0 ? 0 : 1);
