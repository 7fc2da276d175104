import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildReport, type ReportFiles } from "../../src/report/build.js";
import { decodePng } from "../fixtures/png.js";
import { runSetup } from "../fixtures/report-data.js";
import { smallRun } from "../fixtures/report-run.js";

const generated = { toolVersion: "9.9.9", host: "testhost", at: "2026-01-01T02:00:00.000Z" };

describe("buildReport", () => {
  let files: ReportFiles;
  let outDir: string;

  beforeAll(async () => {
    outDir = join(mkdtempSync(join(tmpdir(), "report-build-")), "report");
    const setup = runSetup({
      workload: { ...runSetup().workload, levels: [4, 8, 16], slo: { ttftMs: 500 } },
    });
    files = await buildReport({ experiments: smallRun(), setup, outDir, generated });
  });

  it("writes the report, the CSV, the JSON and every chart as SVG and PNG", () => {
    for (const path of [files.markdown, files.html, files.csv, files.json])
      expect(existsSync(path), path).toBe(true);
    expect(files.charts.length).toBe(11);
    for (const chart of files.charts) {
      const png = decodePng(readFileSync(chart.png));
      expect([png.width, png.height]).toEqual([chart.width, chart.height]);
      expect(readFileSync(chart.svg, "utf8")).toMatch(/^<svg /);
    }
    expect(files.notes).toEqual([]);
    // Written atomically: no temp files left behind.
    expect(readdirSync(outDir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("embeds in report.md the PNGs it wrote, and every section", () => {
    const markdown = readFileSync(files.markdown, "utf8");
    const images = [...markdown.matchAll(/!\[[^\]]*\]\((charts\/[^)]+\.png)\)/g)].map((m) => m[1] as string);
    expect(images.length).toBe(files.charts.length);
    for (const image of images) expect(existsSync(join(outDir, image)), image).toBe(true);
    for (const heading of [
      "# Scaling report: scaling",
      "## rayoss (open-source Ray)",
      "## rayturbo (Anyscale runtime, RayTurbo)",
      "### Under the SLOs: output goodput (requests meeting every SLO)",
      "## Open-source Ray vs Anyscale runtime",
      "## Data quality",
      "## Setup",
    ]) {
      expect(markdown.startsWith(`${heading}\n`) || markdown.includes(`\n${heading}\n`), heading).toBe(true);
    }
    expect(markdown).toContain(
      "OSS vs Turbo (rayoss vs rayturbo): Turbo +4% throughput at 1x, 2x and 4x (noise not measured (repeats: 1); run with repeats ≥ 3).",
    );
    // No band is claimed that was not measured.
    expect(markdown).not.toMatch(/±3%/);
    expect(markdown).toContain("noise not measured (repeats: 1); run with repeats ≥ 3");
    expect(markdown).toContain("| Tool version | orchestrate 0.1.0 |");
    expect(markdown).toContain("orchestrate 9.9.9, generated 2026-01-01T02:00:00.000Z on testhost");
  });

  it("makes report.html one self-contained file: inline SVG and CSS, no script, nothing fetched", () => {
    const html = readFileSync(files.html, "utf8");
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).not.toMatch(/\b(src|href)="(https?:)?\/\//i);
    // The only URLs are XML namespace names, which are never fetched.
    const urls = [...html.matchAll(/https?:\/\/[^\s"'<>)]+/g)].map((m) => m[0]);
    expect(new Set(urls)).toEqual(new Set(["http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"]));
    expect(html).toContain("Content-Security-Policy");
    // Each chart twice: the desktop layout and the phone layout.
    expect(html.match(/<svg role="img"/g)?.length).toBe(2 * files.charts.length);
  });

  it("writes summary.csv with a row for every image × scale × level", () => {
    const rows = readFileSync(files.csv, "utf8").trimEnd().split("\r\n");
    expect(rows).toHaveLength(1 + 2 * 3 * 3);
    expect(rows.filter((r) => r.includes(",missing,"))).toEqual([
      expect.stringMatching(/^rayturbo,turbo,4,4,concurrency,conc16,16,,missing,/),
    ]);
  });

  it("writes report.json for scripts, with the scaling it computed", () => {
    const json = JSON.parse(readFileSync(files.json, "utf8"));
    expect(json).toMatchObject({ format: "orchestrate-report", version: 1, goodputMetric: "output_goodput" });
    const oss = json.scaling[0];
    expect(oss.image).toBe("rayoss");
    expect(oss.rows[0].points[2].efficiency).toBeCloseTo(0.93, 9);
  });
});
