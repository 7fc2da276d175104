import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { buildReport, type ReportFiles } from "../../src/report/build.js";
import { CHROMIUM, haveChromium, openFile } from "../fixtures/browser.js";
import { runSetup } from "../fixtures/report-data.js";
import { smallRun } from "../fixtures/report-run.js";

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
