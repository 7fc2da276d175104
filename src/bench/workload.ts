import { deriveSeed, Random } from "../random.js";
import type { RequestShape, ShapeSource } from "../workloads/request-shape.js";

/**
 * What each request asks for. Prompts are random token-id arrays of exactly `inputTokens` ids:
 * the completions API takes them as they are, so no tokenizer is needed and the prompt length
 * is exact; random ids also make prefix-cache hits practically impossible. Servers that refuse
 * token ids get random common words instead (`text`), whose token count the server's `usage`
 * then reports; a mismatch with the intended length is flagged in the results. A dataset or a
 * trace (src/workloads/) gives each request its own shape instead: a dataset's prompt text as it
 * is, a trace's lengths as random token ids.
 */

export type PromptFormat = "token-ids" | "text";

export interface WorkloadSpec {
  model: string;
  inputTokens: number;
  outputTokens: number;
  promptFormat: PromptFormat;
  /** The seed of this part and level; request i's prompt depends only on it and i. */
  seed: number;
  /** Each request's own shape (a dataset or a trace); absent: every request is inputTokens/outputTokens. */
  shapes?: ShapeSource;
}

/** Token ids drawn from this range exist in every common vocabulary (32k and up) and avoid the
 * low ids where models keep special tokens. */
const TOKEN_ID_MIN = 1000;
const TOKEN_ID_MAX = 30000;

/** Short, common words that most BPE vocabularies encode as one token each (with the space). */
const WORDS = (
  "the of and to in is was for on that with as by at from his her an be this which or are had " +
  "not but it were they have one all their there been has when who will more no if out so said " +
  "what up its about into than them can only other new some could time these two may then do " +
  "first any my now such like our over man me even most made after also did many before must " +
  "through back years where much your way well down should because each just those people how " +
  "too little state good very make world still own see men work long get here between both life"
).split(" ");

export class Workload {
  private readonly prefix: string;
  private readonly fixed: RequestShape;

  constructor(private readonly spec: WorkloadSpec) {
    if (!Number.isInteger(spec.inputTokens) || spec.inputTokens < 1) {
      throw new RangeError("inputTokens must be a positive integer");
    }
    this.fixed = { inputTokens: spec.inputTokens, outputTokens: spec.outputTokens };
    // The fixed part of the body, serialised once.
    this.prefix = `{"model":${JSON.stringify(spec.model)},"prompt":`;
  }

  get inputTokens(): number {
    return this.spec.inputTokens;
  }

  get outputTokens(): number {
    return this.spec.outputTokens;
  }

  /** What request `index` asks for. */
  shape(index: number): RequestShape {
    return this.spec.shapes ? this.spec.shapes(index) : this.fixed;
  }

  /** The JSON body of request `index`. */
  body(index: number): string {
    const shape = this.shape(index);
    const suffix =
      `,"max_tokens":${shape.outputTokens},"ignore_eos":true,"stream":true,` +
      `"stream_options":{"include_usage":true,"continuous_usage_stats":true}}`;
    return `${this.prefix}${this.prompt(index, shape)}${suffix}`;
  }

  private prompt(index: number, shape: RequestShape): string {
    if (shape.promptText !== undefined) return JSON.stringify(shape.promptText);
    const rng = new Random(deriveSeed(this.spec.seed, index));
    if (this.spec.promptFormat === "text") {
      const words: string[] = new Array(shape.inputTokens);
      for (let i = 0; i < words.length; i++) words[i] = WORDS[rng.int(WORDS.length)]!;
      return JSON.stringify(words.join(" "));
    }
    const ids = new Array<number>(shape.inputTokens);
    for (let i = 0; i < ids.length; i++) ids[i] = TOKEN_ID_MIN + rng.int(TOKEN_ID_MAX - TOKEN_ID_MIN);
    return `[${ids.join(",")}]`;
  }
}
