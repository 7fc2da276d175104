import type { WarningKind } from "../model/types.js";
import { formatScale } from "./format.js";
import { type ReportWarning, WARNING_KINDS } from "./warnings.js";

/**
 * The data-quality section: every warning, grouped by kind, with a one-line account of where it
 * applies ("rayoss251 2x: 7 of 7 levels") so a long list still reads at a glance.
 */

export interface QualityGroup {
  kind: WarningKind;
  code: string;
  title: string;
  meaning: string;
  /** "rayoss251 2x: conc4, conc8 (2 levels)", one per image × scale, or "whole run". */
  where: string[];
  messages: string[];
}

export function qualityGroups(warnings: readonly ReportWarning[]): QualityGroup[] {
  const kinds = (Object.keys(WARNING_KINDS) as WarningKind[]).filter((k) =>
    warnings.some((w) => w.kind === k),
  );
  return kinds.map((kind) => {
    const ofKind = warnings.filter((w) => w.kind === kind);
    const places = new Map<string, string[]>();
    for (const w of ofKind) {
      const place = placeOf(w);
      const levels = places.get(place) ?? [];
      if (w.level !== undefined && !levels.includes(w.level)) levels.push(w.level);
      places.set(place, levels);
    }
    const where = [...places.entries()].map(([place, levels]) =>
      levels.length === 0
        ? place
        : `${place}: ${levels.join(", ")} (${levels.length} level${levels.length === 1 ? "" : "s"})`,
    );
    const info = WARNING_KINDS[kind];
    return {
      kind,
      code: info.code,
      title: info.title,
      meaning: info.meaning,
      where,
      messages: ofKind.map((w) => `${placeOf(w)}: ${w.message}`),
    };
  });
}

function placeOf(w: ReportWarning): string {
  if (w.image === undefined) return "whole run";
  return w.scale === undefined ? w.image : `${w.image} ${formatScale(w.scale)}`;
}
