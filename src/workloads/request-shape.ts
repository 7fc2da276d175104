/**
 * What request i of a benchmark asks for. A synthetic workload gives every request the same shape;
 * a dataset gives each its own prompt text; a trace gives each its own lengths (and a send time).
 */
export interface RequestShape {
  /** Prompt length in tokens: exact for token-id prompts, an estimate for `promptText`. */
  inputTokens: number;
  /** Sent as max_tokens with ignore_eos, so the answer has exactly this many tokens. */
  outputTokens: number;
  /** The prompt as the user's file gave it (the server's usage counts its tokens). */
  promptText?: string;
}

/** The shape of request `index` (warm-up included) of one client. */
export type ShapeSource = (index: number) => RequestShape;

/**
 * Tokens in a text, estimated without the model's tokenizer: about four characters a token for
 * English under the common BPE vocabularies. Used only where no server has counted yet (the check
 * against max_model_len before a run, ShareGPT answers' lengths); results use the server's usage.
 */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / CHARS_PER_TOKEN));
}

export const CHARS_PER_TOKEN = 4;

/** The lengths of a file's rows, summed up: what the results say of a workload whose requests differ. */
export class LengthTally {
  rows = 0;
  private input = 0;
  private output = 0;
  maxOutputTokens = 0;

  add(shape: RequestShape): void {
    this.rows += 1;
    this.input += shape.inputTokens;
    this.output += shape.outputTokens;
    if (shape.outputTokens > this.maxOutputTokens) this.maxOutputTokens = shape.outputTokens;
  }

  get meanInputTokens(): number {
    return this.rows === 0 ? 0 : this.input / this.rows;
  }

  get meanOutputTokens(): number {
    return this.rows === 0 ? 0 : this.output / this.rows;
  }
}
