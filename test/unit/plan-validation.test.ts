import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatError } from "../../src/cli.js";
import { UserError } from "../../src/errors.js";
import { loadPlan } from "../../src/plan/load.js";

// Each broken plan in test/fixtures/plans/bad has its exact error output pinned beside it
// (NAME.expected). Paths in messages are relative to the working directory, the repository root.
const BAD = "test/fixtures/plans/bad";
const fixtures = readdirSync(BAD)
  .filter((f) => f.endsWith(".yaml"))
  .sort();

function errorOf(path: string): UserError {
  try {
    loadPlan(path, { env: {} });
  } catch (error) {
    if (error instanceof UserError) return error;
    throw error;
  }
  throw new Error(`${path} loaded without an error`);
}

describe("broken plans", () => {
  it("has at least 15 of them", () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(15);
  });

  it.each(fixtures)("%s is rejected with its pinned message", (fixture) => {
    const path = join(BAD, fixture);
    const expected = readFileSync(path.replace(/\.yaml$/, ".expected"), "utf8").trimEnd();
    const error = errorOf(path);
    expect(error.exitCode).toBe(2);
    expect(formatError(error)).toBe(expected);
  });

  it("reports every problem of a plan at once, in file order", () => {
    const error = errorOf(join(BAD, "02-unknown-nested-key.yaml"));
    expect(error.details.map((d) => d.split("  ")[1]?.split(":")[0])).toEqual([
      "model.tensor_paralel_size",
      "images.0.buld",
      "benchmark.concurency",
    ]);
  });

  it("still checks the other sections when one section is broken", () => {
    // The images section fails its schema; the name rule and the prefix-caching rule still run.
    const error = errorOf(
      writeTemp(`
name: Bad_Name
model:
  model_id: m
  engine_kwargs: { enable_prefix_caching: true }
images:
  - name: oss
    frm: base
compute: { config: c }
`),
    );
    const paths = error.details.map((d) => d.split("  ")[1]?.split(":")[0]);
    expect(paths).toEqual([
      "name",
      "model.engine_kwargs.enable_prefix_caching",
      "images.0.from",
      "images.0.frm",
    ]);
  });

  it("takes chat over a dataset for a model of unknown tokenizer: the file's text is sent as it is", () => {
    const plan = loadPlan(
      writeTemp(`
name: demo
model: { model_id: meta-llama/Llama-3.1-8B-Instruct }
images: [{ name: oss, from: "base:1" }]
compute: { config: c }
benchmark:
  endpoint: chat
  dataset: { format: jsonl, path: prompts.jsonl }
`),
      { env: {} },
    );
    expect(plan.plan.benchmark.endpoint).toBe("chat");
    // Generated chat prompts of the same model still need the tokenizer (fixture 28).
  });
});

function writeTemp(text: string, name = "plan.yaml"): string {
  const dir = mkdtempSync(join(tmpdir(), "plan-"));
  const path = join(dir, name);
  writeFileSync(path, text.trimStart());
  return path;
}
