import type { LevelId } from "../model/level-key.js";

/** How every renderer writes numbers, so the Markdown, HTML and text tables agree to the digit. */

/** What a missing measurement looks like: never a zero. */
export const MISSING = "—";

const grouped = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

/** Throughputs: 2,326 tok/s; 9.30 req/s; 0.412. */
export function formatThroughput(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return MISSING;
  const abs = Math.abs(value);
  if (abs >= 100) return grouped.format(value);
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** Counts: 10,240. */
export function formatCount(value: number): string {
  return grouped.format(value);
}

/** Milliseconds: 8,570 / 964 / 45.6 / 6.83. */
export function formatMs(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return MISSING;
  const abs = Math.abs(value);
  if (abs >= 100) return grouped.format(value);
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** Speed-up: 3.97×. */
export function formatSpeedup(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return MISSING;
  return `${value.toFixed(2)}×`;
}

/** Efficiency as a percentage: 99.1%. */
export function formatEfficiency(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return MISSING;
  return `${(value * 100).toFixed(1)}%`;
}

/** An efficiency's 95% interval: "93.1% – 104.2%". */
export function formatEfficiencyInterval(interval: readonly [number, number]): string {
  return `${formatEfficiency(interval[0])} – ${formatEfficiency(interval[1])}`;
}

/** A ratio b/a as a signed change: +4.2%, −5.0%, ±0.0%. */
export function formatChange(ratio: number | undefined, digits = 1): string {
  if (ratio === undefined || !Number.isFinite(ratio)) return MISSING;
  const value = (ratio - 1) * 100;
  const text = Math.abs(value).toFixed(digits);
  if (Number(text) === 0) return `±${text}%`;
  return `${value > 0 ? "+" : "−"}${text}%`;
}

/** A relative half-width as "±2.1%". */
export function formatPlusMinusPercent(relative: number): string {
  return `±${(relative * 100).toFixed(1)}%`;
}

/** "conc16" → "16", "rr2.5" → "2.5 req/s", "speed2" → "×2". */
export function formatLevel(level: LevelId): string {
  if (level.mode === "replay") return `×${level.value}`;
  return level.mode === "concurrency" ? String(level.value) : `${level.value} req/s`;
}

/** The column heading for levels of this mode. */
export function levelHeading(mode: LevelId["mode"]): string {
  if (mode === "replay") return "Replay speed";
  return mode === "concurrency" ? "Concurrency per client" : "Request rate per client";
}

export function formatScale(scale: number): string {
  return `${scale}x`;
}

/** "rayoss251 (open-source Ray)" / "rayturbo251 (Anyscale runtime)". */
export function imageTitle(group: { image: string; runtime?: "oss" | "turbo" }): string {
  if (group.runtime === "oss") return `${group.image} (open-source Ray)`;
  if (group.runtime === "turbo") return `${group.image} (Anyscale runtime, RayTurbo)`;
  return group.image;
}
