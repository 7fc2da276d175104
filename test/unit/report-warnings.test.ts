import { describe, expect, it } from "vitest";
import { analyze } from "../../src/report/analysis.js";
import { assembleReportInput } from "../../src/report/input.js";
import { scalingTableView } from "../../src/report/tables.js";
import { renderTable } from "../../src/report/text.js";
import {
  collectWarnings,
  derivedLevelWarnings,
  warningCodes,
  warningsAt,
} from "../../src/report/warnings.js";
import { experiment, level, runSetup } from "../fixtures/report-data.js";

const expected = { input: 1000, output: 100 };

describe("data-quality warnings", () => {
  it("failed requests, with their kinds", () => {
    const l = level(4, {
      completed: 35,
      failed: 5,
      errorsByKind: { http_5xx: 3, timeout_before_first_token: 2 },
    });
    const warnings = derivedLevelWarnings(l, expected);
    expect(warnings.map((w) => w.kind)).toEqual(["failed_requests"]);
    expect(warnings[0]?.message).toBe(
      "conc4: 5 of 40 requests failed (http_5xx 3, timeout_before_first_token 2).",
    );
  });

  it("completed < requested when requests neither completed nor failed", () => {
    const warnings = derivedLevelWarnings(level(4, { completed: 30 }), expected);
    expect(warnings.map((w) => w.kind)).toEqual(["incomplete"]);
    expect(warnings[0]?.message).toContain("10 of 40 requests neither completed nor failed");
  });

  it("does not say it twice when the reader already flagged the level incomplete (the seed's files)", () => {
    const l = level(4, {
      completed: 30,
      failed: 10,
      warnings: [{ kind: "incomplete", level: "conc4", message: "conc4: only 30 of 40 requests completed" }],
    });
    expect(derivedLevelWarnings(l, expected)).toEqual([]);
  });

  it("client-bound levels", () => {
    const warnings = derivedLevelWarnings(level(4, { clientVerdict: "client_bound" }), expected);
    expect(warnings.map((w) => w.kind)).toEqual(["client_bound"]);
  });

  it("token mismatch, output and input, beyond the stated tolerances only (whole-run rates)", () => {
    // 1000 tok/s over 1000/90 req/s = 90 output tokens per request, 100 asked for.
    const short = level(4, {
      method: "seed_sum",
      requestThroughput: 1000 / 90,
      totalTokenThroughput: 1000 + (1000 / 90) * 1000,
    });
    expect(derivedLevelWarnings(short, expected).map((w) => w.message)).toEqual([
      "conc4: 90.0 output tokens per request, 100 requested: the requests were not the workload the plan describes.",
    ]);
    // 1,500 input tokens per request, 1000 asked for.
    const long = level(4, { method: "seed_sum", totalTokenThroughput: 1000 + 10 * 1500 });
    expect(derivedLevelWarnings(long, expected)[0]?.message).toContain(
      "1500.0 input tokens per request, 1000 requested",
    );
    // 99.5 output tokens (0.5% off) and 1010 input (1% off) are within tolerance.
    const close = level(4, {
      method: "seed_sum",
      requestThroughput: 1000 / 99.5,
      totalTokenThroughput: 1000 + (1000 / 99.5) * 1010,
    });
    expect(derivedLevelWarnings(close, expected)).toEqual([]);
    // A window aggregate's rates do not divide into lengths; its reader checks lengths itself.
    const windowed = level(4, { method: "window", requestThroughput: 1000 / 90, totalTokenThroughput: 1000 });
    expect(derivedLevelWarnings(windowed, expected).filter((w) => w.kind === "token_mismatch")).toEqual([]);
  });

  it("averaged percentiles for data aggregated the seed's way", () => {
    const warnings = derivedLevelWarnings(level(4, { method: "seed_sum", clients: 2 }), expected);
    expect(warnings.map((w) => w.kind)).toEqual(["averaged_percentiles"]);
    expect(derivedLevelWarnings(level(4, { method: "seed_sum", clients: 1 }), expected)).toEqual([]);
  });

  it("prefix caching on, for the whole run, above every scaling table", () => {
    const setup = runSetup();
    setup.model.prefixCaching = true;
    const analysis = analyze(
      [experiment("rayoss", 1, [level(4)]), experiment("rayoss", 2, [level(4)])],
      setup,
    );
    const prefix = analysis.warnings.filter((w) => w.kind === "prefix_caching");
    expect(prefix).toHaveLength(1);
    expect(prefix[0]?.image).toBeUndefined();
    const view = scalingTableView(analysis, analysis.scaling[0]!);
    expect(view.notes.some((n) => n.startsWith("⚠ prefix caching on:"))).toBe(true);
  });

  it("windows not overlapping and missing parts, as the reader found them, pinned to their cell", () => {
    const l = level(8, {
      warnings: [
        { kind: "windows_disjoint", level: "conc8", message: "conc8: windows overlap 40%" },
        { kind: "missing_part", level: "conc8", message: "conc8: only 1 of 2 parts" },
      ],
    });
    const input = assembleReportInput([experiment("rayoss", 2, [level(4), l])]);
    const warnings = collectWarnings(input);
    expect(warningsAt(warnings, "rayoss", 2, "conc8").map((w) => w.kind)).toEqual([
      "windows_disjoint",
      "missing_part",
    ]);
    expect(warningsAt(warnings, "rayoss", 2, "conc4")).toEqual([]);
  });

  it("clients that do not scale with replicas, for the image", () => {
    const input = assembleReportInput([
      experiment("rayoss", 1, [level(4)]),
      experiment("rayoss", 2, [level(4)], { clients: 1 }),
    ]);
    const other = collectWarnings(input).filter((w) => w.kind === "other");
    expect(other).toHaveLength(1);
    expect(other[0]).toMatchObject({ image: "rayoss" });
    expect(other[0]?.message).toContain("clients do not scale with replicas (1x: 1 client, 2x: 1 client)");
  });

  it("sit next to the numbers they affect, as codes with a legend", () => {
    const analysis = analyze([
      experiment("rayoss", 1, [level(4, { completed: 35, failed: 5 }), level(8)]),
      experiment("rayoss", 2, [level(4), level(8, { clientVerdict: "client_bound" })]),
    ]);
    const view = scalingTableView(analysis, analysis.scaling[0]!);
    const [conc4, conc8] = view.rows;
    expect(warningCodes(conc4?.[1]?.warnings ?? [])).toBe("F");
    expect(conc4?.[2]?.warnings).toBeUndefined();
    expect(warningCodes(conc8?.[2]?.warnings ?? [])).toBe("C");
    const text = renderTable(view);
    expect(text).toContain("                     4      1,000 ⚠F         1,000  1.00×  50.0%\n");
    expect(text).toContain("                     8         1,000      1,000 ⚠C  1.00×  50.0%\n");
    expect(text).toContain("⚠F failed requests:");
    expect(text).toContain("⚠C client-bound:");
  });
});
