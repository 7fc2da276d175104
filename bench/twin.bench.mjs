#!/usr/bin/env node
// The twin's costs, as a user pays them: `orchestrate predict plans/scaling.yaml` (target < 10 s:
// 6 cells × 7 levels in virtual time) and `orchestrate sim calibrate` on the seed's x2 and x4
// folders (target < 30 s: the shipped profile's fit). Calibration needs ../shared/data; without it
// that case is skipped, visibly. Wall time of the whole command, process start-up included.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const cli = join(root, "dist", "bin.js");
const seed = resolve(root, "../shared/data/seed-bm-results");
const out = join(mkdtempSync(join(tmpdir(), "twin-bench-")), "profile.json");

function time(args) {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: "utf8" });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (result.status !== 0)
    throw new Error(`orchestrate ${args.join(" ")} exited ${result.status}: ${result.stderr}`);
  return seconds;
}

const cases = [
  {
    name: "orchestrate predict plans/scaling.yaml",
    args: ["predict", "plans/scaling.yaml", "--json"],
    targetS: 10,
  },
];
const folders = ["rayoss251-x2", "rayoss251-x4", "rayturbo251-x2", "rayturbo251-x4"].map((f) =>
  join(seed, f),
);
if (folders.every((f) => existsSync(f))) {
  cases.push({
    name: "orchestrate sim calibrate <seed x2, x4>",
    args: ["sim", "calibrate", ...folders, "--out", out],
    targetS: 30,
  });
} else {
  console.log(`SKIPPED calibrate: the seed data is not at ${seed}`);
}

let missed = 0;
for (const { name, args, targetS } of cases) {
  const seconds = time(args);
  const ok = seconds < targetS;
  if (!ok) missed += 1;
  console.log(`${name}: ${seconds.toFixed(1)} s (target < ${targetS} s) ${ok ? "ok" : "MISSED"}`);
}
process.exit(missed === 0 ? 0 : 1);
