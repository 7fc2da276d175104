import { Resvg } from "@resvg/resvg-js";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { ChartFonts } from "./fonts.js";
import { phoneLayout } from "./phone.js";
import type { ChartDef } from "./specs.js";

/**
 * Vega-Lite → Vega → SVG, headless (renderer "none": no DOM, no canvas), then SVG → PNG with resvg
 * at twice the size so the images stay sharp on a PR page. Nothing here reads from the network: the
 * specs carry their data inline.
 */

export const PNG_ZOOM = 2;

export interface RenderedChart {
  name: string;
  title: string;
  svg: string;
  /** The same chart laid out for a phone (HTML only). */
  phoneSvg: string;
  png: Buffer;
  /** SVG size in CSS pixels. */
  width: number;
  height: number;
  /** PNG size in pixels (PNG_ZOOM × the SVG size). */
  pngWidth: number;
  pngHeight: number;
  /** What Vega-Lite or Vega complained about (nothing, normally); kept for tests and debugging. */
  warnings: string[];
}

export async function renderChart(def: ChartDef, fonts: ChartFonts): Promise<RenderedChart> {
  const warnings: string[] = [];
  const collect = (...args: unknown[]) => {
    warnings.push(args.map(String).join(" "));
  };
  const logger = {
    level(): number {
      return vega.Warn;
    },
    error: collect,
    warn: collect,
    info() {},
    debug() {},
  };
  const svg = await specToSvg(def.spec, logger);
  const phoneSvg = await specToSvg(phoneLayout(def.spec), logger);
  const { width, height } = svgSize(svg);
  const png = svgToPng(svg, fonts);
  return { name: def.name, title: def.title, svg, phoneSvg, ...png, width, height, warnings };
}

async function specToSvg(spec: TopLevelSpec, logger: unknown): Promise<string> {
  const compiled = compile(spec, { logger: logger as never }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none", logger: logger as never });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export function svgToPng(
  svg: string,
  fonts: ChartFonts,
): { png: Buffer; pngWidth: number; pngHeight: number } {
  const font =
    fonts.defaultFamily === undefined
      ? { loadSystemFonts: true }
      : { loadSystemFonts: false, fontFiles: fonts.files, defaultFontFamily: fonts.defaultFamily };
  const resvg = new Resvg(svg, { font, fitTo: { mode: "zoom", value: PNG_ZOOM }, background: "white" });
  const image = resvg.render();
  return { png: image.asPng(), pngWidth: image.width, pngHeight: image.height };
}

function svgSize(svg: string): { width: number; height: number } {
  const open = /<svg\b[^>]*>/.exec(svg)?.[0] ?? "";
  const width = Number(/\bwidth="([\d.]+)"/.exec(open)?.[1]);
  const height = Number(/\bheight="([\d.]+)"/.exec(open)?.[1]);
  if (!(width > 0 && height > 0)) throw new Error("vega produced an SVG without a size");
  return { width, height };
}
