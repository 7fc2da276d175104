import type { LevelId } from "../model/level-key.js";
import type { ReportAnalysis } from "./analysis.js";
import { formatEfficiency, formatLevel, formatScale, imageTitle } from "./format.js";
import type { ImageGroup } from "./input.js";
import {
  type EfficiencyJudgement,
  type EfficiencyVerdict,
  NO_SPREAD,
  NOISE_NOT_MEASURED,
  verdictWords,
} from "./noise.js";
import type { ScalingTable } from "./scaling.js";

/** The few sentences at the top of the report: how well each image scaled, and OSS vs Turbo. */

export interface EfficiencyRange {
  scale: number;
  levels: number;
  min: number;
  max: number;
  median: number;
}

export function efficiencyRanges(table: ScalingTable): EfficiencyRange[] {
  const out: EfficiencyRange[] = [];
  for (const scale of table.scales) {
    if (scale === table.baseScale) continue;
    const values = table.rows
      .map((r) => r.points.find((p) => p.scale === scale)?.efficiency)
      .filter((v): v is number => v !== undefined)
      .sort((a, b) => a - b);
    if (values.length === 0) continue;
    const mid = Math.floor(values.length / 2);
    const median =
      values.length % 2 === 1
        ? (values[mid] as number)
        : ((values[mid - 1] as number) + (values[mid] as number)) / 2;
    out.push({
      scale,
      levels: values.length,
      min: values[0] as number,
      max: values.at(-1) as number,
      median,
    });
  }
  return out;
}

export function summaryLines(analysis: ReportAnalysis): string[] {
  const lines: string[] = [];
  analysis.input.images.forEach((group, i) => {
    const table = analysis.scaling[i];
    if (!table || table.baseScale === undefined) {
      lines.push(`${imageTitle(group)}: nothing measured.`);
      return;
    }
    const ranges = efficiencyRanges(table);
    if (ranges.length === 0) {
      lines.push(
        `${imageTitle(group)}: only ${formatScale(table.baseScale)} measured, so no scaling to show.`,
      );
      return;
    }
    const parts = ranges.map(
      (r) =>
        `${formatScale(r.scale)} ${formatEfficiency(r.median)} (${formatEfficiency(r.min)}–${formatEfficiency(r.max)} over ${r.levels} level${r.levels === 1 ? "" : "s"})`,
    );
    lines.push(
      `${imageTitle(group)}: scaling efficiency over ${formatScale(table.baseScale)}, median per scale: ${parts.join("; ")}.`,
    );
    lines.push(...verdictLines(group, table));
  });
  for (const c of analysis.comparisons) lines.push(`OSS vs Turbo (${c.oss} vs ${c.turbo}): ${c.headline}`);
  const warned = new Set(analysis.warnings.map((w) => w.kind));
  if (warned.size > 0) {
    lines.push(
      `Data quality: ${analysis.warnings.length} warning${analysis.warnings.length === 1 ? "" : "s"} (${[...warned].join(", ")}); they are marked next to the numbers they affect.`,
    );
  }
  return lines;
}

/** The order verdicts are listed in: the claims first, then what could not be judged. */
const VERDICT_ORDER: EfficiencyVerdict[] = [
  "linear",
  "sub_linear",
  "superlinear_suspect",
  "inconclusive",
  "no_spread",
  "unmeasured",
];

/** How a group of levels with one verdict is named in a sentence; sub-linear levels say by how much. */
const GROUP_WORDS: Record<EfficiencyVerdict, string> = {
  linear: "",
  sub_linear: "sub-linear",
  superlinear_suspect: "superlinear, suspect",
  inconclusive: "inconclusive",
  no_spread: "no spread measured",
  unmeasured: "noise not measured",
};

/**
 * One sentence per scale: its levels grouped by verdict ("E(2x): linear within ±5% at 4, 32;
 * sub-linear at 16 (at least 12% below linear)"). The numbers behind them are in the verdict
 * table; this is the sentence a reader quotes.
 */
export function verdictLines(group: ImageGroup, table: ScalingTable): string[] {
  const lines: string[] = [];
  for (const scale of table.scales) {
    const byVerdict = new Map<EfficiencyVerdict, Array<{ level: LevelId; judgement: EfficiencyJudgement }>>();
    for (const row of table.rows) {
      const judgement = row.points.find((p) => p.scale === scale)?.judgement;
      if (!judgement) continue;
      byVerdict.set(judgement.verdict, [
        ...(byVerdict.get(judgement.verdict) ?? []),
        { level: row.level, judgement },
      ]);
    }
    if (byVerdict.size === 0) continue;
    const e = `${imageTitle(group)}, E(${formatScale(scale)})`;
    const only = [...byVerdict.keys()];
    if (only.length === 1 && (only[0] === "unmeasured" || only[0] === "no_spread")) {
      lines.push(`${e}: ${only[0] === "unmeasured" ? NOISE_NOT_MEASURED : NO_SPREAD}.`);
      continue;
    }
    const parts = VERDICT_ORDER.flatMap((verdict) => {
      const levels = byVerdict.get(verdict);
      if (!levels) return [];
      const words = verdict === "linear" ? verdictWords(levels[0]!.judgement) : GROUP_WORDS[verdict];
      const each = levels.map(({ level, judgement }) =>
        verdict === "sub_linear" ? `${formatLevel(level)} (${subLinearBy(judgement)})` : formatLevel(level),
      );
      return [`${words} at ${each.join(", ")}`];
    });
    lines.push(`${e}: ${parts.join("; ")} (95% intervals from the repeats).`);
  }
  return lines;
}

/** "at least 16% below linear", from the full words of a sub-linear verdict. */
function subLinearBy(judgement: EfficiencyJudgement): string {
  return verdictWords(judgement).replace(/^sub-linear, /, "");
}
