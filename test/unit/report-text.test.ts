import { describe, expect, it } from "vitest";
import { reportText } from "../../src/report/index.js";
import { experiment, level } from "../fixtures/report-data.js";

describe("reportText (what `results DIR...` shows)", () => {
  it("gives the summary, the scaling table, the verdicts and where the charts are, as plain text", () => {
    const text = reportText(
      [
        experiment("rayoss", 1, [level(4, { outputThroughput: 1000 })]),
        experiment("rayoss", 2, [level(4, { outputThroughput: 1900 })]),
        experiment("rayturbo", 1, [level(4, { outputThroughput: 1100 })]),
        experiment("rayturbo", 2, [level(4, { outputThroughput: 1950 })]),
      ],
      undefined,
      ["report/charts/throughput-per-replica-rayoss.png"],
    );
    expect(text).toContain(
      "• rayoss (open-source Ray): scaling efficiency over 1x, median per scale: 2x 95.0%",
    );
    expect(text).toContain("rayoss (open-source Ray): output throughput scaling\n");
    expect(text).toContain("                     4         1,000         1,900  1.90×  95.0%\n");
    expect(text).toContain(
      "• OSS vs Turbo (rayoss vs rayturbo): Turbo +10% throughput at 1x, Turbo +3% throughput at 2x (noise not measured (repeats: 1); run with repeats ≥ 3).",
    );
    expect(text).toContain(
      "• rayoss (open-source Ray), E(2x): noise not measured (repeats: 1); run with repeats ≥ 3.",
    );
    expect(text).toContain(
      "• 2x: Turbo +2.6% output throughput (geometric mean over 1 level); noise not measured",
    );
    expect(text).toMatch(/Charts:\n {2}report\/charts\/throughput-per-replica-rayoss\.png\n/);
    expect(text).not.toContain("Data quality:");
  });
});
