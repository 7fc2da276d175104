import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { UserError } from "../../../src/errors.js";
import { datasetRowFor, datasetSource, rowsOfPart, scanDataset } from "../../../src/workloads/dataset.js";
import { readJsonArray } from "../../../src/workloads/json-array.js";
import { replayTimes, scanTrace, tracePart } from "../../../src/workloads/trace.js";

/** Datasets and traces as users bring them: small files each test writes, read back row by row. */

const dir = mkdtempSync(join(tmpdir(), "workload-files-"));
let files = 0;
function file(text: string, name = "data"): string {
  const path = join(dir, `${files++}-${name}`);
  writeFileSync(path, text);
  return path;
}

const conversation = (ask: string, answer: string, from = "human") => ({
  id: ask.slice(0, 8),
  conversations: [
    { from, value: ask },
    { from: "gpt", value: answer },
  ],
});

async function errorOf(promise: Promise<unknown>): Promise<UserError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UserError);
  return error as UserError;
}

describe("ShareGPT files", () => {
  it("takes the first turn as the prompt and the answer's length (4 characters a token) as max_tokens", async () => {
    const rows = [
      conversation("What is two and two?", "Four, of course."),
      { id: "lone", conversations: [{ from: "human", value: "Hello?" }] },
      conversation("Ignored", "because the assistant spoke first", "gpt"),
      conversation("Name a colour.", "Blue."),
    ];
    const path = file(JSON.stringify(rows, null, 2), "sharegpt.json");
    const summary = await scanDataset({ format: "sharegpt", path }, { outputTokens: 99 });
    expect(summary.rows).toBe(2);
    expect(summary.skipped).toBe(2);
    expect(summary.lengths.maxOutputTokens).toBe(Math.ceil("Four, of course.".length / 4));
    const shapes = await datasetSource(
      { format: "sharegpt", path },
      { outputTokens: 99 },
      { part: 1, clients: 1, rows: 2 },
    );
    expect(shapes(0).promptText).toBe("What is two and two?");
    expect(shapes(1).promptText).toBe("Name a colour.");
    expect(shapes(1).outputTokens).toBe(2);
    expect(shapes(2).promptText).toBe("What is two and two?");
  });

  it("reads elements split across read chunks, multi-byte text and braces inside strings included", async () => {
    // Over 64 KiB, so the reader sees several chunks; the text holds what a naive scanner trips on.
    const rows = Array.from({ length: 400 }, (_, i) =>
      conversation(`Prompt ${i} with "quotes", {braces} ] and ünïcödé ✓ ${"x".repeat(150)}`, `Answer ${i}\\`),
    );
    const path = file(JSON.stringify(rows), "big.json");
    const seen: string[] = [];
    for await (const element of readJsonArray(path)) {
      seen.push((element.value as ReturnType<typeof conversation>).conversations[0]!.value);
      expect(element.line).toBe(1);
    }
    expect(seen).toEqual(rows.map((r) => r.conversations[0]!.value));
  });

  it("names the file and line of an element that is not valid JSON", async () => {
    const path = file('[\n  {"conversations": []},\n  {"conversations": [oops]}\n]\n', "bad.json");
    const error = await errorOf(scanDataset({ format: "sharegpt", path }, { outputTokens: 8 }));
    expect(error.message).toMatch(new RegExp(`^${path}:3: the element starting here is not valid JSON`));
  });

  it("names the line of a conversation without its turns, and of a turn without its text", async () => {
    const missing = file('[\n{"id": "a"}\n]', "missing.json");
    expect(
      (await errorOf(scanDataset({ format: "sharegpt", path: missing }, { outputTokens: 8 }))).message,
    ).toBe(`${missing}:2: missing "conversations"`);
    const noValue = file(
      '[{"conversations": [{"from": "human"}, {"from": "gpt", "value": "x"}]}]',
      "novalue.json",
    );
    expect(
      (await errorOf(scanDataset({ format: "sharegpt", path: noValue }, { outputTokens: 8 }))).message,
    ).toBe(`${noValue}:1: turn 1: missing "value" (the text)`);
  });

  it("refuses a file that is not one array, or that is cut short", async () => {
    const object = file('{"conversations": []}', "object.json");
    expect(
      (await errorOf(scanDataset({ format: "sharegpt", path: object }, { outputTokens: 8 }))).message,
    ).toMatch(/:1: expected the file to be one JSON array/);
    const cut = file(
      '[\n{"conversations": [{"from": "human", "value": "a"}, {"from": "gpt", "value": "b"}]},\n{"conv',
      "cut.json",
    );
    expect(
      (await errorOf(scanDataset({ format: "sharegpt", path: cut }, { outputTokens: 8 }))).message,
    ).toMatch(/:3: the JSON array is not closed/);
  });
});

describe("JSONL datasets", () => {
  it("reads prompts and optional output_tokens, skipping blank lines", async () => {
    const path = file('{"prompt": "one", "output_tokens": 5}\n\n{"prompt": "two"}\n', "d.jsonl");
    const summary = await scanDataset({ format: "jsonl", path }, { outputTokens: 7 });
    expect(summary.rows).toBe(2);
    expect(summary.lengths.meanOutputTokens).toBe(6);
    expect(summary.bytes).toBe(
      Buffer.byteLength('{"prompt": "one", "output_tokens": 5}\n\n{"prompt": "two"}\n'),
    );
    expect(summary.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("names the file and line of a bad line, a missing prompt, a bad length", async () => {
    const bad = file('{"prompt": "ok"}\n{"prompt": "unterminated}\n', "bad.jsonl");
    expect((await errorOf(scanDataset({ format: "jsonl", path: bad }, { outputTokens: 8 }))).message).toMatch(
      new RegExp(`^${bad}:2: not valid JSON`),
    );
    const noPrompt = file('{"prompt": "ok"}\n{"text": "hi"}\n', "noprompt.jsonl");
    expect(
      (await errorOf(scanDataset({ format: "jsonl", path: noPrompt }, { outputTokens: 8 }))).message,
    ).toBe(`${noPrompt}:2: missing "prompt"`);
    const badLength = file('{"prompt": "ok", "output_tokens": 0}\n', "badlen.jsonl");
    expect(
      (await errorOf(scanDataset({ format: "jsonl", path: badLength }, { outputTokens: 8 }))).message,
    ).toBe(`${badLength}:1: "output_tokens" must be a whole number ≥ 1, got 0`);
  });

  it("refuses an empty file, a missing file, and a row longer than max_model_len", async () => {
    const empty = file("\n\n", "empty.jsonl");
    expect((await errorOf(scanDataset({ format: "jsonl", path: empty }, { outputTokens: 8 }))).message).toBe(
      `${empty}:1: the dataset has no usable rows`,
    );
    const absent = join(dir, "absent.jsonl");
    expect(
      (await errorOf(scanDataset({ format: "jsonl", path: absent }, { outputTokens: 8 }))).message,
    ).toMatch(new RegExp(`^${absent}: no such file`));
    const long = file(
      `{"prompt": "short"}\n{"prompt": "${"word ".repeat(40)}", "output_tokens": 20}\n`,
      "long.jsonl",
    );
    const error = await errorOf(
      scanDataset({ format: "jsonl", path: long }, { outputTokens: 8, maxModelLen: 64 }),
    );
    expect(error.message).toBe(
      `${long}:2: prompt (about 50 tokens) + answer (20) = 70 tokens, more than max_model_len 64`,
    );
  });
});

describe("which dataset row each client's request gets", () => {
  it("N clients together walk the rows in file order, as one client does", () => {
    const rows = 7;
    for (const clients of [1, 2, 3, 4]) {
      const sent: number[] = [];
      // Global request g is client (g mod N) + 1's request floor(g / N).
      for (let g = 0; g < 20; g++)
        sent.push(datasetRowFor(Math.floor(g / clients), (g % clients) + 1, clients, rows));
      expect(sent).toEqual(Array.from({ length: 20 }, (_, g) => g % rows));
    }
  });

  it("a client holds only the rows it can send", () => {
    const keep = rowsOfPart(2, 4, 10); // gcd 2: client 2 sends rows 1, 3, 5, 7, 9
    expect([...Array(10).keys()].filter(keep)).toEqual([1, 3, 5, 7, 9]);
    for (let k = 0; k < 30; k++) expect(keep(datasetRowFor(k, 2, 4, 10))).toBe(true);
  });
});

describe("Mooncake traces", () => {
  const row = (timestamp: number, input = 100, output = 10) =>
    JSON.stringify({ timestamp, input_length: input, output_length: output, hash_ids: [1, 2] });

  it("deals rows round-robin and divides the trace's time by speed × clients", async () => {
    const path = file([row(1000), row(1010), row(1020), row(1040), row(1100)].join("\n"), "t.jsonl");
    const summary = await scanTrace({ format: "mooncake", path }, undefined);
    expect(summary.rows).toBe(5);
    expect(summary.durationMs).toBe(100);
    const first = await tracePart({ format: "mooncake", path }, { part: 1, clients: 2 });
    const second = await tracePart({ format: "mooncake", path }, { part: 2, clients: 2 });
    expect([...first.atMs]).toEqual([0, 20, 100]);
    expect([...second.atMs]).toEqual([10, 40]);
    expect([...replayTimes(first, 1, 2)]).toEqual([0, 10, 50]);
    expect([...replayTimes(second, 2, 2)]).toEqual([2.5, 10]);
  });

  it("names the file and line of a bad row", async () => {
    const cases: Array<[string, string]> = [
      [`${row(0)}\n{"timestamp": 5, "input_length": 10}`, ':2: missing "output_length"'],
      [
        `${row(0)}\n{"timestamp": "soon", "input_length": 1, "output_length": 1}`,
        ':2: "timestamp" must be a number of ms ≥ 0, got "soon"',
      ],
      [`${row(50)}\n${row(40)}`, ':2: "timestamp" 40 is before the previous row\'s 50'],
      [`${row(0)}\n${row(1)}\nnot json`, ":3: not valid JSON"],
      [`${row(0, 1.5)}`, ':1: "input_length" must be a whole number ≥ 1, got 1.5'],
    ];
    for (const [text, message] of cases) {
      const path = file(text, "bad-trace.jsonl");
      const error = await errorOf(scanTrace({ format: "mooncake", path }, undefined));
      expect(error.message.startsWith(`${path}${message}`), error.message).toBe(true);
    }
  });

  it("refuses an empty trace and a row longer than max_model_len", async () => {
    const empty = file("", "empty-trace.jsonl");
    expect((await errorOf(scanTrace({ format: "mooncake", path: empty }, undefined))).message).toBe(
      `${empty}:1: the trace has no rows`,
    );
    const long = file([row(0), row(5, 4000, 200)].join("\n"), "long-trace.jsonl");
    expect((await errorOf(scanTrace({ format: "mooncake", path: long }, 4096))).message).toBe(
      `${long}:2: input_length 4000 + output_length 200 = 4200 tokens, more than max_model_len 4096`,
    );
  });
});
