/**
 * The tokenizers the tool ships (gpt-tokenizer's bundled encodings: nothing is downloaded), and
 * which one a model uses. Shared by the plan's checks and the load generator, which builds text
 * prompts of an exact token length with it (bench/prompt-words.ts).
 */

export const TOKENIZERS = ["o200k_harmony", "o200k_base", "cl100k_base"] as const;
export type TokenizerName = (typeof TOKENIZERS)[number];

/**
 * The tokenizer of a model: the one named, or o200k_harmony for gpt-oss (its published
 * tokenizer). Undefined when neither says: the caller refuses text prompts of a set length.
 */
export function tokenizerFor(modelId: string, named: TokenizerName | undefined): TokenizerName | undefined {
  if (named) return named;
  return /gpt-oss/i.test(modelId) ? "o200k_harmony" : undefined;
}
