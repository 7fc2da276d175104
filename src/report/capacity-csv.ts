import type { CapacityTable } from "./capacity.js";
import { capacityValue, describeCriterion } from "./capacity.js";
import { csvField } from "./csv.js";

/**
 * capacity.csv: one row per image × measured scale with the capacity under the SLO (empty numbers
 * where the levels did not bracket it: `capacity_position` says above or below). Same CSV dialect
 * as summary.csv; the columns are documented in docs/report.md.
 */

export const CAPACITY_CSV_COLUMNS = [
  "image",
  "scale",
  "criterion",
  "capacity_position",
  "capacity_per_replica_req_s",
  "capacity_ci95_low",
  "capacity_ci95_high",
  "capacity_repeats",
  "total_capacity_req_s",
  "lower_level",
  "upper_level",
  "base_scale",
  "capacity_efficiency",
  "capacity_efficiency_ci95_low",
  "capacity_efficiency_ci95_high",
  "capacity_efficiency_verdict",
] as const;

type Row = Partial<Record<(typeof CAPACITY_CSV_COLUMNS)[number], string | number>>;

export function capacityCsv(tables: readonly CapacityTable[]): string {
  const lines = [CAPACITY_CSV_COLUMNS.join(",")];
  for (const table of tables) {
    for (const s of table.scales) {
      const value = capacityValue(s);
      const row: Row = {
        image: table.image,
        scale: s.scale,
        criterion: describeCriterion(table.criterion),
        capacity_position: s.estimate.kind,
      };
      if (table.baseScale !== undefined) row.base_scale = table.baseScale;
      if (value !== undefined) {
        row.capacity_per_replica_req_s = value;
        row.total_capacity_req_s = value * s.scale;
      }
      if (s.repeats) {
        row.capacity_ci95_low = s.repeats.mean - s.repeats.ci95;
        row.capacity_ci95_high = s.repeats.mean + s.repeats.ci95;
        row.capacity_repeats = s.repeats.n;
      }
      if (s.estimate.kind === "between") {
        row.lower_level = s.estimate.lower.level.key;
        row.upper_level = s.estimate.upper.level.key;
      }
      if (s.efficiency !== undefined) row.capacity_efficiency = s.efficiency;
      if (s.judgement) {
        row.capacity_efficiency_verdict = s.judgement.verdict;
        if (s.judgement.interval) {
          row.capacity_efficiency_ci95_low = s.judgement.interval[0];
          row.capacity_efficiency_ci95_high = s.judgement.interval[1];
        }
      }
      lines.push(CAPACITY_CSV_COLUMNS.map((c) => csvField(row[c])).join(","));
    }
  }
  return `${lines.join("\r\n")}\r\n`;
}
