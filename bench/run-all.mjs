#!/usr/bin/env node
// `npm run bench`: runs every bench/*.bench.mjs in turn (one at a time, so they do not compete for
// the two cores) and prints their figures. Pass names to run a subset: npm run bench -- sim client
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const scripts = readdirSync(here)
  .filter((f) => f.endsWith(".bench.mjs"))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.includes(w)))
  .sort();

if (scripts.length === 0) {
  console.error(`no benchmark matches ${wanted.join(", ") || "(any)"} in ${here}`);
  process.exit(2);
}

let failed = 0;
for (const script of scripts) {
  console.log(`\n=== ${script} ===`);
  const result = spawnSync(process.execPath, [join(here, script)], { stdio: "inherit" });
  if (result.status !== 0) {
    failed += 1;
    console.log(`${script} exited with ${result.status ?? result.signal}`);
  }
}
process.exit(failed === 0 ? 0 : 1);
