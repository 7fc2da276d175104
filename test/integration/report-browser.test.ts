import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { buildReport, type ReportFiles } from "../../src/report/build.js";
import { CHROMIUM, haveChromium, openFile } from "../fixtures/browser.js";
import { runSetup } from "../fixtures/report-data.js";
import { repeatedRun, smallRun } from "../fixtures/report-run.js";

const SCREENSHOTS = resolve(import.meta.dirname, "../../test-output/report-browser");

describe.skipIf(!haveChromium)(
  `report.html in a real browser (skipped: ${CHROMIUM} is not installed)`,
  () => {
    let files: ReportFiles;

    beforeAll(async () => {
      const outDir = join(mkdtempSync(join(tmpdir(), "report-browser-")), "report");
      files = await buildReport({ experiments: smallRun(), setup: runSetup(), outDir });
      mkdirSync(SCREENSHOTS, { recursive: true });
    });

    it("renders charts and tables on a desktop without a single request leaving the page", async () => {
      const opened = await openFile(files.html, { width: 1280, height: 900 });
      try {
        const { page } = opened;
        expect(opened.requests).toEqual([pathToFileURL(files.html).href]);
        expect(opened.errors).toEqual([]);

        const charts = await page.locator("figure.chart .wide svg.chart").all();
        expect(charts).toHaveLength(files.charts.length);
        for (const chart of charts) {
          const box = await chart.boundingBox();
          expect(box?.width).toBeGreaterThan(400);
          expect(box?.height).toBeGreaterThan(200);
        }
        // The phone variants exist but are not shown on a desktop.
        expect(await page.locator("figure.chart .phone svg.chart").first().isVisible()).toBe(false);

        const scaling = page.locator("#table-scaling-rayoss table");
        const box = await scaling.boundingBox();
        expect(box?.width).toBeGreaterThan(500);
        expect(box?.height).toBeGreaterThan(80);
        expect(await scaling.locator("tbody tr").count()).toBe(3);
        expect(await scaling.locator("td.warned abbr.w").first().getAttribute("title")).toContain(
          "failed requests",
        );
        // Points carry their tooltips.
        expect(await page.locator("figure.chart .wide svg title").count()).toBeGreaterThan(20);

        await page.screenshot({ path: join(SCREENSHOTS, "desktop.png"), fullPage: true });
      } finally {
        await opened.close();
      }
    });

    it("opens with the answer at 1200 px: the verdict table and the E(N) chart first, nothing cut off", async () => {
      const outDir = join(mkdtempSync(join(tmpdir(), "report-browser-")), "report");
      const repeated = await buildReport({ experiments: repeatedRun(), setup: runSetup(), outDir });
      const opened = await openFile(repeated.html, { width: 1200, height: 1500 });
      try {
        const { page } = opened;
        expect(opened.errors).toEqual([]);
        const verdicts = page.locator("#table-verdicts");
        const chart = page.locator("figure.chart .wide svg.chart").first();
        expect(await chart.getAttribute("aria-label")).toContain("E(N) against N");
        const tableBox = (await verdicts.boundingBox())!;
        const chartBox = (await chart.boundingBox())!;
        // The first screen: the title, then the table, then the chart, all above the fold.
        expect(tableBox.y).toBeLessThan(200);
        expect(chartBox.y).toBeGreaterThan(tableBox.y + tableBox.height - 1);
        expect(chartBox.y + chartBox.height).toBeLessThanOrEqual(1500);
        expect(await verdicts.locator("tbody tr").count()).toBe(12);
        expect(await verdicts.locator("tbody tr").first().textContent()).toMatch(
          /linear ±5%|inconclusive|sub-linear/,
        );
        await page.screenshot({ path: join(SCREENSHOTS, "first-screen-1200.png") });
        // Nothing is cut off: no table needs its sideways scroll, no chart is wider than its box,
        // and the page itself is no wider than the window.
        const cut = await page.evaluate(`[...document.querySelectorAll(".table-wrap, .chart-scroll.wide")]
          .filter((e) => e.scrollWidth > e.clientWidth + 1)
          .map((e) => (e.closest("section") ?? e.parentElement).id || e.innerText.slice(0, 40))`);
        expect(cut).toEqual([]);
        expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(1200);
      } finally {
        await opened.close();
      }
    });

    it("fits a phone: charts in their phone layout, nothing wider than the screen but the tables' own scroll", async () => {
      const opened = await openFile(files.html, { width: 390, height: 844 });
      try {
        const { page } = opened;
        expect(opened.requests).toEqual([pathToFileURL(files.html).href]);
        expect(opened.errors).toEqual([]);
        const charts = await page.locator("figure.chart .phone svg.chart").all();
        expect(charts).toHaveLength(files.charts.length);
        for (const chart of charts) {
          const box = await chart.boundingBox();
          expect(box?.width).toBeGreaterThan(250);
          expect(box?.width).toBeLessThanOrEqual(390);
          expect(box?.height).toBeGreaterThan(150);
        }
        expect(await page.locator("figure.chart .wide svg.chart").first().isVisible()).toBe(false);
        // Runs in the page; the test's own tsconfig has no DOM types, hence the string.
        const pageWidth = await page.evaluate("document.documentElement.scrollWidth");
        expect(pageWidth).toBeLessThanOrEqual(390);
        expect(await page.locator("#table-scaling-rayoss").isVisible()).toBe(true);
        await page.screenshot({ path: join(SCREENSHOTS, "phone.png"), fullPage: true });
      } finally {
        await opened.close();
      }
    });
  },
);
