import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { analyze } from "../../src/report/analysis.js";
import { seedStyleChart, throughputPerReplicaChart } from "../../src/report/charts/specs.js";
import { loadReportSources } from "../../src/report/sources.js";
import { haveChromium, openFile } from "../fixtures/browser.js";
import { decodePng } from "../fixtures/png.js";

// The published seed results live beside the project (../shared/data); CI always has them. Where
// they are absent the tests are skipped, visibly.
const SEED = resolve(import.meta.dirname, "../../../shared/data/seed-bm-results");
const haveSeed = existsSync(SEED);
const seedDirs = haveSeed
  ? readdirSync(SEED)
      .sort()
      .map((d) => join(SEED, d))
  : [];
const BIN = resolve(import.meta.dirname, "../../dist/bin.js");
const OUT = resolve(import.meta.dirname, "../../test-output/seed-report");
const run = promisify(execFile);

/** The seed's own numbers, straight from its all-parts files: what its plot_results.py plotted. */
function seedAllParts(exp: string, level: string): { output_throughput: number; request_throughput: number } {
  return JSON.parse(readFileSync(join(SEED, exp, "all-parts", `${level}.json`), "utf8"));
}

function dataOf(spec: unknown): Array<Record<string, unknown>> {
  return (spec as { data: { values: Array<Record<string, unknown>> } }).data.values;
}

describe.skipIf(!haveSeed)(`the report on the published seed results (skipped: ${SEED} is absent)`, () => {
  let json: { outDir: string; charts: Array<{ name: string; png: string; width: number; height: number }> };

  beforeAll(async () => {
    rmSync(OUT, { recursive: true, force: true });
    const { stdout } = await run(process.execPath, [BIN, "report", ...seedDirs, "--out", OUT, "--json"]);
    json = JSON.parse(stdout);
  });

  it("reproduces the seed's two plots: per-replica throughput vs concurrency, one line per scale", async () => {
    const sources = await loadReportSources(seedDirs);
    const analysis = analyze(sources.experiments);
    expect(analysis.input.images.map((g) => [g.image, g.runtime, g.scales])).toEqual([
      ["rayoss251", "oss", [2, 4, 8]],
      ["rayturbo251", "turbo", [2, 4, 8]],
    ]);
    for (const group of analysis.input.images) {
      const ours = dataOf(throughputPerReplicaChart(analysis, group).spec);
      const seeds = dataOf(seedStyleChart(analysis, group).spec);
      expect(ours).toHaveLength(3 * 7);
      for (const [i, point] of ours.entries()) {
        const exp = `${group.image}-x${point.scaleN}`;
        const stored = seedAllParts(exp, point.levelKey as string);
        expect(point.perReplica).toBeCloseTo(stored.output_throughput / (point.scaleN as number), 1);
        expect(seeds[i]?.requestsPerReplica).toBeCloseTo(
          stored.request_throughput / (point.scaleN as number),
          3,
        );
        expect(seeds[i]?.series).toBe(`${exp} (${point.scaleN}x nodes)`);
      }
    }
    const names = json.charts.map((c) => c.name);
    expect(names).toContain("throughput-per-replica-rayoss251");
    expect(names).toContain("throughput-per-replica-rayturbo251");
    expect(names).toContain("seed-style-rayoss251");
    expect(names).toContain("seed-style-rayturbo251");
    for (const chart of json.charts) {
      const png = decodePng(readFileSync(chart.png));
      expect([png.width, png.height]).toEqual([chart.width, chart.height]);
    }
  });

  it("adds the scaling table the seed never had, computed from its own files", () => {
    const markdown = readFileSync(join(OUT, "report.md"), "utf8");
    // E(4x) at conc16 over 2x, by hand from all-parts: T(4x) / (2 × T(2x)).
    const t2 = seedAllParts("rayoss251-x2", "conc16").output_throughput;
    const t4 = seedAllParts("rayoss251-x4", "conc16").output_throughput;
    const e4 = ((100 * t4) / (2 * t2)).toFixed(1);
    expect(markdown).toMatch(new RegExp(`\\| 16 \\| 2,326 ⚠IA \\| 4,584 ⚠IA \\| 1\\.97× \\| ${e4}% \\|`));
    expect(markdown).toContain("N₀ = 2x, the smallest scale measured");
  });

  it("and the warnings it never had: every level is incomplete, and its percentiles are averages", () => {
    const csv = readFileSync(join(OUT, "summary.csv"), "utf8").trimEnd().split("\r\n");
    expect(csv).toHaveLength(1 + 2 * 3 * 7);
    const warnings = csv[0]!.split(",").indexOf("warnings");
    for (const row of csv.slice(1)) expect(row.split(",")[warnings]).toBe("incomplete;averaged_percentiles");
    const markdown = readFileSync(join(OUT, "report.md"), "utf8");
    expect(markdown).toContain("**⚠I incomplete**");
    expect(markdown).toContain("**⚠A averaged percentiles**");
    expect(markdown).toContain(
      "rayoss251 2x: conc4, conc8, conc16, conc32, conc48, conc64, conc128 (7 levels)",
    );
  });

  it.skipIf(!haveChromium)(
    "renders in a browser; a screenshot is kept in test-output/seed-report/",
    async () => {
      const html = join(OUT, "report.html");
      mkdirSync(OUT, { recursive: true });
      for (const [name, viewport] of [
        ["screenshot-desktop.png", { width: 1280, height: 900 }],
        ["screenshot-phone.png", { width: 390, height: 844 }],
      ] as const) {
        const opened = await openFile(html, viewport);
        try {
          expect(opened.requests).toHaveLength(1);
          expect(opened.errors).toEqual([]);
          expect(await opened.page.locator("svg.chart:visible").count()).toBe(json.charts.length);
          await opened.page.screenshot({ path: join(OUT, name), fullPage: true });
        } finally {
          await opened.close();
        }
      }
    },
  );
});
