import { describe, expect, it } from "vitest";
import { analyze } from "../../src/report/analysis.js";
import { CSV_COLUMNS, csvField, summaryCsv } from "../../src/report/csv.js";
import { experiment, level } from "../fixtures/report-data.js";

describe("summary.csv", () => {
  it("has one row per image × scale × level, missing ones included, quoted as RFC 4180 says", () => {
    const analysis = analyze([
      experiment("rayoss", 1, [level(4), level(8, { outputThroughput: 1800 })], {
        dir: '/data/run "a",1/rayoss-x1',
      }),
      experiment("rayoss", 2, [level(4, { outputThroughput: 1900, completed: 38, failed: 2 })]),
    ]);
    const header =
      "image,runtime,scale,clients,mode,level,concurrency_per_client,request_rate_per_client,status,requests,completed," +
      "failed,duration_s,output_throughput_tok_s,output_throughput_per_replica_tok_s,request_throughput_req_s," +
      "total_token_throughput_tok_s,output_goodput_tok_s,request_goodput_req_s,base_scale,speedup,efficiency," +
      "efficiency_ci95,efficiency_ci95_low,efficiency_ci95_high,efficiency_verdict,linearity_band_low,linearity_band_high," +
      "repeats_to_settle,repeats_to_settle_low,repeats_to_settle_high,repeats,repeats_stop,output_throughput_ci95,ttft_p50_ms,ttft_p99_ms,tpot_p50_ms,tpot_p99_ms,itl_p50_ms," +
      "itl_p99_ms,e2el_p50_ms,e2el_p99_ms,aggregation,client_verdict,warnings,experiment";
    const dirOne = '"/data/run ""a"",1/rayoss-x1"';
    expect(summaryCsv(analysis)).toBe(
      [
        header,
        `rayoss,oss,1,1,concurrency,conc4,4,,measured,40,40,0,10,1000,1000,10,11000,,,1,1,1,,,,,,,,,,1,,,90,200,10,12,9,30,1000,1500,window,ok,,${dirOne}`,
        `rayoss,oss,1,1,concurrency,conc8,8,,measured,80,80,0,10,1800,1800,18,19800,,,1,1,1,,,,,,,,,,1,,,90,200,10,12,9,30,1000,1500,window,ok,,${dirOne}`,
        "rayoss,oss,2,2,concurrency,conc4,4,,measured,40,38,2,10,1900,950,19,20900,,,1,1.9,0.95,,,,unmeasured,0.95,1.05,,,,1,,,90,200,10,12,9,30,1000,1500,window,ok,failed_requests,/data/rayoss-x2",
        // 2x never ran conc8: a row that says so, with empty numbers, never zeros.
        `rayoss,oss,2,2,concurrency,conc8,8,,missing${",".repeat(37)}/data/rayoss-x2`,
        "",
      ].join("\r\n"),
    );
    expect(header.split(",")).toEqual([...CSV_COLUMNS]);
  });

  it("gives E(N)'s 95% interval and the verdict it supports when both scales were repeated", () => {
    const reps = (values: number[]) =>
      values.map((v) => ({ outputThroughput: v, requestThroughput: v / 100 }));
    const analysis = analyze([
      experiment("rayoss", 1, [level(4, { outputThroughput: 1000, repeats: reps([990, 1000, 1010]) })]),
      experiment("rayoss", 2, [level(4, { outputThroughput: 1900, repeats: reps([1880, 1900, 1920]) })]),
    ]);
    const [header, , twoX] = summaryCsv(analysis).split("\r\n");
    const row = Object.fromEntries(header!.split(",").map((c, i) => [c, twoX!.split(",")[i]]));
    const low = Number(row.efficiency_ci95_low);
    const high = Number(row.efficiency_ci95_high);
    expect(low).toBeCloseTo(0.95 - Number(row.efficiency_ci95), 9);
    expect(high).toBeCloseTo(0.95 + Number(row.efficiency_ci95), 9);
    expect(high).toBeLessThan(1);
    expect(row.efficiency_verdict).toBe("sub_linear");
    expect([row.linearity_band_low, row.linearity_band_high]).toEqual(["0.95", "1.05"]);
    expect(row.repeats).toBe("3");
  });

  it("quotes only what needs quoting and drops float noise", () => {
    expect(csvField("plain")).toBe("plain");
    expect(csvField("a,b")).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField("two\nlines")).toBe('"two\nlines"');
    expect(csvField(0.1 + 0.2)).toBe("0.3");
    expect(csvField(undefined)).toBe("");
    expect(csvField(Number.NaN)).toBe("");
  });
});
