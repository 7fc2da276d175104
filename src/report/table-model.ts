import type { WarningKind } from "../model/types.js";
import { MISSING } from "./format.js";
import { type ReportWarning, WARNING_KINDS } from "./warnings.js";

/**
 * The report's tables as plain data (text per cell, which cells are missing, which warnings sit
 * next to which number), so Markdown, HTML and the terminal render the same thing. Every table
 * view builds one of these; every renderer reads one.
 */

export interface TableCell {
  text: string;
  missing?: boolean;
  /** Data-quality warnings about this number, shown as their codes next to it. */
  warnings?: ReportWarning[];
}

export interface Column {
  label: string;
  numeric: boolean;
}

export interface Table {
  id: string;
  title: string;
  /** Sentences shown above the table: how to read it, and warnings that cover all of it. */
  notes: string[];
  columns: Column[];
  rows: TableCell[][];
  /** Shown under it: the legend of the warning codes and symbols it uses. */
  footnotes: string[];
}

/** A name safe in ids and file names: "rayoss-251" stays, "Ray OSS 2.51" → "ray-oss-2-51". */
export function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
}

/** The legend of the warning codes used in these rows, and of the missing mark, then any other lines. */
export function legend(rows: TableCell[][], ...extra: string[]): string[] {
  const kinds = new Set<WarningKind>();
  let anyMissing = false;
  for (const row of rows) {
    for (const cell of row) {
      for (const w of cell.warnings ?? []) kinds.add(w.kind);
      anyMissing ||= cell.missing === true;
    }
  }
  const lines = (Object.keys(WARNING_KINDS) as WarningKind[])
    .filter((k) => kinds.has(k))
    .map((k) => `⚠${WARNING_KINDS[k].code} ${WARNING_KINDS[k].title}: ${WARNING_KINDS[k].meaning}`);
  if (anyMissing) lines.push(`${MISSING} not measured (missing from the data, not zero).`);
  return [...lines, ...extra];
}
