import { drawLength, type LengthSpec } from "../model/lengths.js";
import { deriveSeed, Random } from "../random.js";
import type { RequestShape, ShapeSource } from "../workloads/request-shape.js";
import { COMMON_WORDS } from "./prompt-words.js";

export type { RequestShape, ShapeSource };

/**
 * What each request asks for, and its body.
 *
 * Two steps, so that other sources of work plug in without touching the bodies: a `ShapeSource`
 * says what request i asks for (its lengths, and its prompt text when the source has one, as a
 * dataset does), and `Workload` turns that into a completions or chat body.
 *
 * Prompts without text of their own are generated. For completions they are random token-id
 * arrays of exactly `inputTokens` ids: the API takes them as they are, so no tokenizer is needed
 * and the length is exact; random ids also make prefix-cache hits practically impossible. Chat
 * (and completions with `text`) takes text: random words that are one token each under the
 * model's tokenizer (prompt-words.ts), so the content is exactly `inputTokens` tokens; the
 * server's count adds its chat template, and the results report by how much.
 */

export type PromptFormat = "token-ids" | "text";
export type Endpoint = "completions" | "chat";

/** Lengths drawn per request from (seed, index): the same at every scale, repeat and client. */
export function lengthSource(input: LengthSpec, output: LengthSpec, seed: number): ShapeSource {
  return (index) => ({
    inputTokens: drawLength(input, seed, "input", index),
    outputTokens: drawLength(output, seed, "output", index),
  });
}

export interface WorkloadSpec {
  model: string;
  endpoint: Endpoint;
  promptFormat: PromptFormat;
  shapes: ShapeSource;
  /** One-token words under the model's tokenizer; absent: common words, length not promised. */
  words?: readonly string[];
  /** The seed of this part and level; request i's prompt depends only on it and i. */
  seed: number;
}

/** Token ids drawn from this range exist in every common vocabulary (32k and up) and avoid the
 * low ids where models keep special tokens. */
const TOKEN_ID_MIN = 1000;
const TOKEN_ID_MAX = 30000;

export class Workload {
  private readonly head: string;
  private readonly words: readonly string[];
  /** Reused between requests: prompts of thousands of ids would otherwise be garbage each time. */
  private readonly ids: number[] = [];

  constructor(private readonly spec: WorkloadSpec) {
    this.words = spec.words ?? COMMON_WORDS;
    // The fixed part of the body, serialised once.
    this.head = `{"model":${JSON.stringify(spec.model)},`;
  }

  /** Request `index`: what it asks for and its JSON body. */
  request(index: number): { shape: RequestShape; body: string } {
    const shape = this.spec.shapes(index);
    if (!Number.isInteger(shape.inputTokens) || shape.inputTokens < 1)
      throw new RangeError(
        `request ${index}: inputTokens must be a positive integer, got ${shape.inputTokens}`,
      );
    const tail =
      `,"max_tokens":${shape.outputTokens},"ignore_eos":true,"stream":true,` +
      `"stream_options":{"include_usage":true,"continuous_usage_stats":true}}`;
    const rng = new Random(deriveSeed(this.spec.seed, index));
    if (this.spec.endpoint === "chat") {
      const content = JSON.stringify(shape.promptText ?? this.randomText(rng, shape.inputTokens));
      return { shape, body: `${this.head}"messages":[{"role":"user","content":${content}}]${tail}` };
    }
    if (shape.promptText !== undefined || this.spec.promptFormat === "text") {
      const prompt = JSON.stringify(shape.promptText ?? this.randomText(rng, shape.inputTokens));
      return { shape, body: `${this.head}"prompt":${prompt}${tail}` };
    }
    const ids = this.ids;
    ids.length = shape.inputTokens;
    for (let i = 0; i < ids.length; i++) ids[i] = TOKEN_ID_MIN + rng.int(TOKEN_ID_MAX - TOKEN_ID_MIN);
    return { shape, body: `${this.head}"prompt":[${ids.join(",")}]${tail}` };
  }

  /** The JSON body of request `index`. */
  body(index: number): string {
    return this.request(index).body;
  }

  /** `count` random words; the first without its leading space, as a person would type it. */
  private randomText(rng: Random, count: number): string {
    const words: string[] = new Array(count);
    for (let i = 0; i < count; i++) words[i] = this.words[rng.int(this.words.length)]!;
    return words.join(" ");
  }
}

/** Every request asks for the same lengths. */
export function fixedShape(inputTokens: number, outputTokens: number): ShapeSource {
  const shape = { inputTokens, outputTokens };
  return () => shape;
}
