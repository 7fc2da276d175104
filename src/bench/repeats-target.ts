import type { RepeatsTarget } from "./options.js";

/**
 * Repeats until sure: after each finished repeat of a level, whether it may stop. It stops once it
 * has run `min` times and the 95% interval of its mean output throughput (Student's t over the
 * repeats, as the combined file states it) is within ±targetCi, relative to the mean; or when it
 * has run the most it may. The decision is recorded in the manifest, so a resumed run neither
 * repeats a level that was sure nor forgets one that was not.
 */

export interface RepeatsStop {
  reason: "target_reached" | "max_reached";
  /** The relative half-width of the throughput interval when it stopped. */
  ci_relative: number | null;
}

export function repeatsStop(
  repeatsDone: number,
  maxRepeats: number,
  target: RepeatsTarget,
  combined: { output_throughput?: unknown; output_throughput_ci95?: unknown },
): RepeatsStop | undefined {
  const ci = relativeHalfWidth(combined);
  if (repeatsDone >= target.min && ci !== null && ci <= target.targetCi)
    return { reason: "target_reached", ci_relative: ci };
  if (repeatsDone >= maxRepeats) return { reason: "max_reached", ci_relative: ci };
  return undefined;
}

function relativeHalfWidth(combined: { output_throughput?: unknown; output_throughput_ci95?: unknown }) {
  const mean = combined.output_throughput;
  const ci = combined.output_throughput_ci95;
  if (typeof mean !== "number" || !(mean > 0) || !Array.isArray(ci) || ci.length !== 2) return null;
  const [low, high] = ci as [unknown, unknown];
  return typeof low === "number" && typeof high === "number" ? (high - low) / 2 / mean : null;
}
