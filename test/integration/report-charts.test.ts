import { describe, expect, it } from "vitest";
import { analyze } from "../../src/report/analysis.js";
import { findChartFonts } from "../../src/report/charts/fonts.js";
import { addPointTitles, inlineSvg } from "../../src/report/charts/inline-svg.js";
import { PHONE_WIDTH, phoneLayout, wrap } from "../../src/report/charts/phone.js";
import { PNG_ZOOM, renderChart, svgToPng } from "../../src/report/charts/render.js";
import { CHART_FONT, reportCharts, throughputPerReplicaChart } from "../../src/report/charts/specs.js";
import { darkPixels, decodePng, pngSize } from "../fixtures/png.js";
import { experiment, level } from "../fixtures/report-data.js";

function twoImages() {
  const levels = (factor: number) => [
    level(4, { outputThroughput: 1000 * factor }),
    level(8, { outputThroughput: 1800 * factor }),
  ];
  return analyze([
    experiment("rayoss", 1, levels(1)),
    experiment("rayoss", 2, levels(2)),
    experiment("rayturbo", 1, levels(1.02)),
    experiment("rayturbo", 2, levels(2.1)),
  ]);
}

const fonts = findChartFonts();

describe("charts", () => {
  it("render headless to an SVG and a PNG that decodes at twice the SVG's size", async () => {
    const analysis = twoImages();
    const chart = await renderChart(throughputPerReplicaChart(analysis, analysis.input.images[0]!), fonts);
    expect(chart.warnings).toEqual([]);
    expect(chart.svg).toMatch(/^<svg[^>]+viewBox="0 0 [\d.]+ [\d.]+"/);
    expect(chart.svg).toContain(">Output throughput per replica</text>");
    expect(pngSize(chart.png)).toEqual({ width: chart.width * PNG_ZOOM, height: chart.height * PNG_ZOOM });
    const image = decodePng(chart.png);
    expect(image.width).toBe(chart.pngWidth);
    expect(image.height).toBe(chart.pngHeight);
    // Axes, two lines, their points and the labels: far from a blank image.
    expect(darkPixels(image)).toBeGreaterThan(5000);
  });

  it.skipIf(fonts.defaultFamily === undefined)(
    "draw text in the PNG with a font found on this machine",
    () => {
      const text = (family: string) =>
        `<svg xmlns="http://www.w3.org/2000/svg" width="240" height="60"><rect width="240" height="60" fill="white"/>` +
        `<text x="10" y="42" font-family="${family}" font-size="32" fill="black">Scaling 4x</text></svg>`;
      const withFont = decodePng(svgToPng(text(CHART_FONT), fonts).png);
      expect(darkPixels(withFont)).toBeGreaterThan(500);
      // The same text with no usable font draws nothing: this is what the font setup prevents.
      const without = decodePng(
        svgToPng(text("No Such Font"), { files: [], defaultFamily: "No Such Font" }).png,
      );
      expect(darkPixels(without)).toBe(0);
    },
  );

  it("render request-rate levels too, on a rate axis", async () => {
    const rate = (value: number, outputThroughput: number) =>
      level(1, {
        key: `rr${value}`,
        mode: "request-rate",
        requestRate: value,
        concurrency: undefined,
        outputThroughput,
      });
    const analysis = analyze([
      experiment("rayoss", 1, [rate(0.5, 400), rate(2, 1500)]),
      experiment("rayoss", 2, [rate(0.5, 790), rate(2, 2900)]),
      experiment("rayturbo", 1, [rate(0.5, 410), rate(2, 1550)]),
    ]);
    for (const def of reportCharts(analysis)) {
      const chart = await renderChart(def, fonts);
      expect(chart.warnings, def.name).toEqual([]);
      if (def.name.startsWith("throughput-per-replica")) {
        expect(chart.svg).toContain("Request rate per client (req/s, log scale)");
      }
    }
  });

  it("carry their data inline: nothing for a renderer to fetch", () => {
    for (const chart of reportCharts(twoImages())) {
      expect(JSON.stringify(chart.spec), chart.name).not.toMatch(/"url"\s*:/);
    }
  });

  it("are all there for two images with two scales: the verdicts, throughput, efficiency, latency, comparison, seed's plot", () => {
    expect(reportCharts(twoImages()).map((c) => c.name)).toEqual([
      "verdicts",
      "throughput-per-replica-rayoss",
      "efficiency-rayoss",
      "latency-rayoss",
      "throughput-per-replica-rayturbo",
      "efficiency-rayturbo",
      "latency-rayturbo",
      "side-by-side-rayoss-rayturbo",
      "turbo-vs-oss-rayoss-rayturbo",
      "seed-style-rayoss",
      "seed-style-rayturbo",
    ]);
  });

  it("get a phone layout: one narrow column, legend below, subtitles wrapped", () => {
    const analysis = twoImages();
    const latency = reportCharts(analysis).find((c) => c.name === "latency-rayoss");
    const phone = phoneLayout(latency!.spec) as unknown as {
      columns: number;
      spec: { width: number };
      config: { legend: { orient: string } };
      title: { subtitle: string[] };
    };
    expect(phone.columns).toBe(1);
    expect(phone.spec.width).toBe(PHONE_WIDTH);
    expect(phone.config.legend.orient).toBe("bottom");
    expect(phone.title.subtitle.every((line: string) => line.length <= 44)).toBe(true);
    expect(wrap("one two three four", 9)).toEqual(["one two", "three", "four"]);
  });
});

describe("SVG inlined in HTML", () => {
  it("gets a tooltip on every point, saying what the point is", async () => {
    const analysis = twoImages();
    const chart = await renderChart(throughputPerReplicaChart(analysis, analysis.input.images[0]!), fonts);
    const inlined = inlineSvg(chart.svg, "c3", "throughput");
    // Two scales × two levels = four points, each with a <title> the browser shows on hover.
    const titles = [...inlined.matchAll(/<title>([^<]*)<\/title>/g)].map((m) => m[1]).sort();
    expect(titles).toEqual([
      "rayoss 1x, concurrency 4/client: 1,000 tok/s per replica (1,000 in all)",
      "rayoss 1x, concurrency 8/client: 1,800 tok/s per replica (1,800 in all)",
      "rayoss 2x, concurrency 4/client: 1,000 tok/s per replica (2,000 in all)",
      "rayoss 2x, concurrency 8/client: 1,800 tok/s per replica (3,600 in all)",
    ]);
    expect(inlined).toMatch(/^<svg role="img" aria-label="throughput" class="chart" style="max-width:\d+px"/);
  });

  it("gets ids of its own, so two inline charts never share a clip path", () => {
    const svg =
      '<svg width="10" height="10"><defs><clipPath id="clip1"><rect/></clipPath></defs>' +
      '<g clip-path="url(#clip1)"><use href="#clip1"/></g></svg>';
    expect(inlineSvg(svg, "c3", "x")).toBe(
      '<svg role="img" aria-label="x" class="chart" style="max-width:10px" width="10" height="10"><defs><clipPath id="c3-clip1"><rect/></clipPath></defs>' +
        '<g clip-path="url(#c3-clip1)"><use href="#c3-clip1"/></g></svg>',
    );
  });

  it("adds titles only to points, not to lines or axes", () => {
    const svg =
      '<svg><path aria-label="a" role="graphics-symbol" aria-roledescription="line mark" d="M0,0"/>' +
      '<path aria-label="x: 4" role="graphics-symbol" aria-roledescription="point" d="M1,1"/></svg>';
    expect(addPointTitles(svg)).toBe(
      '<svg><path aria-label="a" role="graphics-symbol" aria-roledescription="line mark" d="M0,0"/>' +
        '<path aria-label="x: 4" role="graphics-symbol" aria-roledescription="point" d="M1,1"><title>x: 4</title></path></svg>',
    );
  });
});
