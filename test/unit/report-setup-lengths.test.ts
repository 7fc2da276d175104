import { describe, expect, it } from "vitest";
import { assembleReportInput } from "../../src/report/input.js";
import { generatedBy, setupSection } from "../../src/report/setup-facts.js";
import { experiment, level, runSetup } from "../fixtures/report-data.js";

const fact = (facts: Array<{ label: string; value: string }>, label: string) =>
  facts.find((f) => f.label === label)?.value;

describe("the report's setup: lengths, endpoint and the server's prompt count", () => {
  const chatSetup = runSetup({
    workload: {
      ...runSetup().workload,
      lengths: "uniform 500–1500 input / 100 output tokens, drawn per request from seed 7",
      endpoint: "chat",
    },
  });

  it("names a length distribution with its seed, and the chat endpoint", () => {
    const input = assembleReportInput([experiment("rayoss", 1, [level(4)])], chatSetup);
    const workload = fact(setupSection(input, generatedBy()).facts, "Workload");
    expect(workload).toContain("uniform 500–1500 input / 100 output tokens, drawn per request from seed 7");
    expect(workload).toContain("chat endpoint");
  });

  it("says how far the server's prompt count landed: a chat template is the same for every request", () => {
    const steady = { mean: 6, min: 6, max: 6 };
    const input = assembleReportInput(
      [1, 2].map((n) => experiment("rayoss", n, [level(4, { promptTokensDeviation: steady })])),
      chatSetup,
    );
    expect(fact(setupSection(input, generatedBy()).facts, "Prompt tokens, server − requested")).toBe(
      "+6 per request, the same for every request (the chat template)",
    );
    const varying = assembleReportInput(
      [experiment("rayoss", 1, [level(4, { promptTokensDeviation: { mean: 12.5, min: 3, max: 40 } })])],
      chatSetup,
    );
    expect(fact(setupSection(varying, generatedBy()).facts, "Prompt tokens, server − requested")).toBe(
      "+12.5 per request, from +3 to +40",
    );
  });

  it("says nothing when every prompt was counted as asked (token ids)", () => {
    const exact = { mean: 0, min: 0, max: 0 };
    const input = assembleReportInput([
      experiment("rayoss", 1, [level(4, { promptTokensDeviation: exact })]),
    ]);
    expect(
      fact(setupSection(input, generatedBy()).facts, "Prompt tokens, server − requested"),
    ).toBeUndefined();
  });
});
