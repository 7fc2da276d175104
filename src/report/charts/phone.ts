import type { TopLevelSpec } from "vega-lite";

/**
 * The same chart laid out for a phone: narrower panels stacked in one column, the legend below,
 * subtitles wrapped. A chart drawn for a desktop and shrunk to 360 px would leave 6 px text; this
 * one stays readable without zooming. The HTML page shows one or the other by screen width.
 */

export const PHONE_WIDTH = 300;
const PHONE_HEIGHT = 210;
const SUBTITLE_CHARS = 44;

type Json = Record<string, unknown>;

export function phoneLayout(spec: TopLevelSpec): TopLevelSpec {
  const out = structuredClone(spec) as unknown as Json;
  if (typeof out.width === "number") out.width = PHONE_WIDTH;
  if (typeof out.height === "number") out.height = PHONE_HEIGHT;
  const inner = out.spec as Json | undefined;
  if (inner && typeof inner === "object") {
    inner.width = PHONE_WIDTH;
    inner.height = Math.min(PHONE_HEIGHT, typeof inner.height === "number" ? inner.height : PHONE_HEIGHT);
    out.columns = 1;
  }
  const title = out.title as Json | undefined;
  if (title && typeof title === "object" && title.subtitle !== undefined) {
    const lines = Array.isArray(title.subtitle) ? (title.subtitle as string[]) : [String(title.subtitle)];
    title.subtitle = lines.flatMap((line) => wrap(line, SUBTITLE_CHARS));
  }
  const config = { ...((out.config as Json | undefined) ?? {}) };
  config.legend = { ...((config.legend as Json | undefined) ?? {}), orient: "bottom", columns: 2 };
  out.config = config;
  return out as unknown as TopLevelSpec;
}

/** Greedy word wrap; a word longer than the width gets a line of its own. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}
