import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { planKeyRows, renderPlanReference } from "../../src/plan/reference-doc.js";
import { planSchema } from "../../src/plan/schema.js";

const PAGE = new URL("../../docs/plan.md", import.meta.url);

describe("docs/plan.md", () => {
  it("is what the schema generates", () => {
    const committed = readFileSync(PAGE, "utf8");
    // A bare toBe would print two long pages; say what to do instead.
    expect(committed === renderPlanReference(), "docs/plan.md is stale: run `npm run docs:plan`").toBe(true);
  });

  it("lists every top-level key of the schema", () => {
    const page = renderPlanReference();
    for (const key of Object.keys(planSchema.shape)) expect(page).toContain(`| \`${key}\` |`);
  });

  it("has a table for every section and nested key", () => {
    const page = renderPlanReference();
    for (const heading of ["## `model`", "## `benchmark`", "## `local`", "## Removed keys"]) {
      expect(page).toContain(heading);
    }
    for (const key of [
      "images[].env",
      "scales[].clients",
      "benchmark.slo.ttft_ms",
      "local.noise.slowdown.factor",
      "model.profile",
      "deploy.cli_timeout_s",
    ]) {
      expect(page).toContain(`| \`${key}\` |`);
    }
  });

  it("shows types and defaults as a plan writes them", () => {
    const rows = new Map(planKeyRows().map((row) => [row.key, row]));
    expect(rows.get("scales")).toMatchObject({
      type: "list of whole numbers ≥ 1 or maps",
      default: "`[1, 2, 4]`",
    });
    expect(rows.get("images[].env")).toMatchObject({ default: "`{}`" });
    expect(rows.get("benchmark")).toMatchObject({ default: "(section)" });
    expect(rows.get("model")).toMatchObject({ default: "required" });
    expect(rows.get("local.noise.step_jitter")).toMatchObject({ type: "number from 0 to 2", default: "`0`" });
    expect(rows.get("cost.assumed_ttft_ms")).toMatchObject({ removed: true });
  });
});

describe("generation", () => {
  it("fails naming every key that has no description", () => {
    const undocumented = planSchema.extend({
      extra: z.string(),
      nested: z.strictObject({ inner: z.number() }).describe("documented, but not its key"),
    });
    expect(() => renderPlanReference(undocumented)).toThrow(/without a description.*: extra, nested\.inner$/);
  });
});
