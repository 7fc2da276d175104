import { encode } from "gpt-tokenizer/encoding/o200k_harmony";
import { describe, expect, it } from "vitest";
import { oneTokenWords } from "../../../src/bench/prompt-words.js";
import { lengthSource, Workload } from "../../../src/bench/workload.js";
import {
  drawLength,
  type LengthSpec,
  lengthSpecProblems,
  maxLength,
  meanLength,
  rangeRatio,
} from "../../../src/model/lengths.js";
import { TOKENIZERS, tokenizerFor } from "../../../src/model/tokenizers.js";

const N = 20_000;

function draws(spec: LengthSpec, seed = 7): number[] {
  return Array.from({ length: N }, (_, i) => drawLength(spec, seed, "input", i));
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe("request lengths", () => {
  it("uniform: every whole number from min to max, evenly", () => {
    const xs = draws({ distribution: "uniform", min: 10, max: 19 });
    const counts = new Map<number, number>();
    for (const x of xs) counts.set(x, (counts.get(x) ?? 0) + 1);
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    // Each of 10 values ~2,000 times; 5 standard deviations of a binomial is ~210.
    for (const n of counts.values()) expect(Math.abs(n - N / 10)).toBeLessThan(210);
  });

  it("normal: the asked mean, clamped to its bounds", () => {
    const xs = draws({ distribution: "normal", mean: 500, std: 100, min: 100, max: 900 });
    expect(Math.abs(mean(xs) - 500)).toBeLessThan(5 * (100 / Math.sqrt(N)));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(100);
    expect(Math.max(...xs)).toBeLessThanOrEqual(900);
    const tight = draws({ distribution: "normal", mean: 500, std: 100, min: 450, max: 550 });
    expect(tight.filter((x) => x === 450 || x === 550).length).toBeGreaterThan(N / 4);
  });

  it("lognormal: by median or by mean, with its long tail cut at max", () => {
    const byMedian = draws({ distribution: "lognormal", median: 800, sigma: 0.5, min: 1, max: 100_000 });
    expect(Math.abs(median(byMedian) - 800) / 800).toBeLessThan(0.03);
    const spec: LengthSpec = { distribution: "lognormal", mean: 800, sigma: 0.5, min: 1, max: 100_000 };
    expect(meanLength(spec)).toBeCloseTo(800, 9);
    expect(Math.abs(mean(draws(spec)) - 800) / 800).toBeLessThan(0.03);
    expect(maxLength({ ...spec, max: 1000 })).toBe(1000);
  });

  it("request i gets the same lengths whoever draws it, and input and output are independent", () => {
    const spec: LengthSpec = { distribution: "uniform", min: 1, max: 1_000_000 };
    const a = lengthSource(spec, spec, 42);
    const b = lengthSource(spec, spec, 42);
    expect([3, 1, 2].map((i) => b(i))).toEqual([3, 1, 2].map((i) => a(i)));
    expect(a(1).inputTokens).not.toBe(a(1).outputTokens);
    expect(lengthSource(spec, spec, 43)(1)).not.toEqual(a(1));
    expect(lengthSource(100, 10, 42)(5)).toEqual({ inputTokens: 100, outputTokens: 10 });
  });

  it("vLLM's --random-range-ratio is uniform around the length", () => {
    expect(rangeRatio(1000, 0.1)).toEqual({ distribution: "uniform", min: 900, max: 1100 });
    expect(rangeRatio(1000, 0)).toBe(1000);
    expect(rangeRatio(10, 1)).toEqual({ distribution: "uniform", min: 1, max: 20 });
  });

  it("names every problem with the field it is in", () => {
    expect(lengthSpecProblems("input_tokens", 100)).toEqual([]);
    expect(lengthSpecProblems("input_tokens", 0)).toEqual([
      "input_tokens: must be a whole number ≥ 1, got 0",
    ]);
    expect(lengthSpecProblems("x", { distribution: "uniform", min: 9, max: 3 })).toEqual([
      "x: min 9 is more than max 3",
    ]);
    expect(
      lengthSpecProblems("x", { distribution: "lognormal", median: 5, mean: 5, sigma: 1, min: 1, max: 9 }),
    ).toEqual(["x: give the lognormal's median or its mean, one of them"]);
  });
});

describe("chat prompts of an exact token length", () => {
  it("o200k_harmony (gpt-oss) counts n generated words as n tokens", async () => {
    const words = await oneTokenWords("o200k_harmony");
    const workload = new Workload({
      model: "m",
      endpoint: "chat",
      promptFormat: "text",
      shapes: lengthSource({ distribution: "uniform", min: 1, max: 3000 }, 4, 5),
      words,
      seed: 11,
    });
    for (let i = 0; i < 50; i++) {
      const { shape, body } = workload.request(i);
      expect(encode(JSON.parse(body).messages[0].content).length).toBe(shape.inputTokens);
    }
  });

  it("every shipped tokenizer has a vocabulary of one-token words", async () => {
    for (const name of TOKENIZERS) expect((await oneTokenWords(name)).length).toBeGreaterThanOrEqual(50);
  });

  it("knows gpt-oss's tokenizer, and no other model's unless told", () => {
    expect(tokenizerFor("openai/gpt-oss-120b", undefined)).toBe("o200k_harmony");
    expect(tokenizerFor("meta-llama/Llama-3.1-8B", undefined)).toBeUndefined();
    expect(tokenizerFor("meta-llama/Llama-3.1-8B", "cl100k_base")).toBe("cl100k_base");
  });
});
