/**
 * Words for text prompts of an exact token length, checked against a real tokenizer.
 *
 * Why words and not decoded random token ids: a chat request carries text, and the server
 * tokenizes it again. Random ids decoded to text re-tokenize to a different count (merges across
 * the seams), while a word that is one token with its leading space stays one token next to any
 * other such word: the o200k and cl100k pre-tokenizers split text into " word" pieces before BPE
 * runs, so no merge can cross a space. So n such words are exactly n tokens. The list is checked
 * once at start-up (each word alone, then all of them in one text); a word the tokenizer splits is
 * dropped rather than trusted.
 *
 * The words are also at most 4 characters, so the simulator's stand-in tokenizer (one token per 4
 * characters of a word, src/sim/tokens.ts) counts them the same way a real one does.
 *
 * The tokenizers are gpt-tokenizer's bundled encodings (no download at run time). A model whose
 * tokenizer is not one of them gets no chat prompts of a promised length: the plan or the command
 * line must name the tokenizer, or the run is refused (model/tokenizers.ts).
 */

import type { TokenizerName } from "../model/tokenizers.js";

/** Common words of at most 4 characters: the candidates, and the text prompts' words without a tokenizer. */
export const COMMON_WORDS: readonly string[] = (
  "the of and to in is was for on that with as by at from his her an be this or are had not " +
  "but it were they have one all been has when who will more no if out so said what up its " +
  "into than them can only new some time two may then do any my now such like our over man me " +
  "even most made also did many must back much your way well down each just how too good very " +
  "make own see men work long get here both life"
)
  .split(" ")
  .filter((w) => w.length <= 4);

/** The vocabulary must be large enough that two random prompts share no long prefix. */
const MIN_WORDS = 50;

type Encode = (text: string) => number[];

async function loadEncoder(name: TokenizerName): Promise<Encode> {
  // Each encoding is several MB: load only the one asked for, and only when text prompts need it.
  switch (name) {
    case "o200k_harmony":
      return (await import("gpt-tokenizer/encoding/o200k_harmony")).encode;
    case "o200k_base":
      return (await import("gpt-tokenizer/encoding/o200k_base")).encode;
    case "cl100k_base":
      return (await import("gpt-tokenizer/encoding/cl100k_base")).encode;
  }
}

/** Words of one token each (with their leading space) under `name`, verified as a whole. */
export async function oneTokenWords(name: TokenizerName): Promise<string[]> {
  const encode = await loadEncoder(name);
  // A prompt's first word has no space before it: both forms must be one token.
  const words = COMMON_WORDS.filter((w) => encode(` ${w}`).length === 1 && encode(w).length === 1);
  const together = encode(words.join(" ")).length;
  if (words.length < MIN_WORDS || together !== words.length) {
    throw new Error(
      `the ${name} tokenizer does not keep common words as single tokens (${words.length} words, ${together} tokens together); prompts of an exact length cannot be built with it`,
    );
  }
  return words;
}
