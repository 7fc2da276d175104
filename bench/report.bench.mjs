// How long the whole report takes for the published seed results (6 experiments, 42 cells, 10 charts
// rendered twice plus PNGs): `run` builds it at the end of every run, so it must stay quick.
// Target: under 5 s on the 2-core CI machine. Skips when ../shared/data is absent.
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildReport, loadReportSources } from "../dist/report/index.js";

const here = fileURLToPath(new URL(".", import.meta.url));
const seed = resolve(here, "../../shared/data/seed-bm-results");
if (!existsSync(seed)) {
  console.log(`skipped: ${seed} is absent`);
  process.exit(0);
}
const dirs = readdirSync(seed).map((d) => join(seed, d));
const TARGET_MS = 5000;
const times = [];
for (let i = 0; i < 3; i++) {
  const start = performance.now();
  const sources = await loadReportSources(dirs);
  await buildReport({
    experiments: sources.experiments,
    outDir: mkdtempSync(join(tmpdir(), "report-bench-")),
  });
  times.push(performance.now() - start);
}
const best = Math.min(...times);
console.log(
  `seed report (load + build, 10 charts): best ${best.toFixed(0)} ms of ${times.map((t) => t.toFixed(0)).join(", ")} ms; target < ${TARGET_MS} ms: ${best < TARGET_MS ? "ok" : "SLOW"}`,
);
process.exit(best < TARGET_MS ? 0 : 1);
