// Regenerates docs/local-report.png: the top of the report that `orchestrate run plans/local.yaml`
// writes, as a newcomer first sees it. Debian's chromium, driven by playwright-core (no browser
// download). Usage:
//   npm run docs:screenshot                  # runs plans/local.yaml first (about 3 minutes)
//   npm run docs:screenshot -- RUN_DIR       # uses a finished run folder
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { CHROMIUM_PATH as CHROMIUM, CHROMIUM_ARGS } from "./chromium.mjs";

const OUT = resolve(import.meta.dirname, "../docs/local-report.png");
const BIN = resolve(import.meta.dirname, "../dist/bin.js");

function newestRun(resultsDir) {
  const runs = readdirSync(resultsDir)
    .map((name) => join(resultsDir, name))
    .filter((dir) => existsSync(join(dir, "report", "report.html")))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return runs[0];
}

function reportOf(runDir) {
  const html = join(runDir, "report", "report.html");
  if (!existsSync(html))
    throw new Error(`${runDir} holds no report/report.html; is it a finished run folder?`);
  return html;
}

if (!existsSync(CHROMIUM)) {
  console.error(
    `error: ${CHROMIUM} not found; install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH`,
  );
  process.exit(1);
}

let runDir = process.argv[2];
if (!runDir) {
  const resultsDir = mkdtempSync(join(tmpdir(), "docs-screenshot-"));
  execFileSync(process.execPath, [BIN, "run", "plans/local.yaml", "--results-dir", resultsDir], {
    stdio: "inherit",
  });
  runDir = newestRun(resultsDir);
}
const html = reportOf(runDir);

const profile = mkdtempSync(join(tmpdir(), "docs-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: CHROMIUM,
  headless: true,
  args: [...CHROMIUM_ARGS],
  viewport: { width: 1200, height: 1500 },
});
try {
  const page = await context.newPage();
  await page.goto(pathToFileURL(html).href, { waitUntil: "load" });
  await page.screenshot({ path: OUT, fullPage: false });
  console.log(`wrote ${OUT} from ${html}`);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
