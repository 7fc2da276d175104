/**
 * The simulator's stand-in for a tokenizer and a model's output. No real tokenizer is needed: the
 * load generator sends token-id arrays (exact lengths), and text prompts get a documented,
 * deterministic approximation.
 *
 * - A token-id array counts as its length.
 * - A text prompt is split on whitespace and every word into pieces of up to 4 characters; each
 *   piece is one token (the common "a token is about 4 characters of English" rule, per word).
 * - A chat conversation costs each message's content plus 3 template tokens per message, plus 3
 *   tokens that prime the assistant's answer (as OpenAI's own counting recipe does).
 * - Generated text: each token is a common English word with a leading space, chosen by a hash of
 *   the seed, the prompt and the position, so the same prompt always gets the same answer (like
 *   greedy decoding) whatever else the server is doing.
 */
import { hashInts, hashString, mix32 } from "../random.js";

const CHARS_PER_TOKEN = 4;
const MESSAGE_TEMPLATE_TOKENS = 3;
const ASSISTANT_PRIMING_TOKENS = 3;
const VOCABULARY_SIZE = 100_000;

/** Token ids of a text, by the whitespace/4-character rule above. */
export function tokenizeText(text: string): number[] {
  const ids: number[] = [];
  for (const word of text.split(/\s+/)) {
    for (let i = 0; i < word.length; i += CHARS_PER_TOKEN) {
      ids.push(hashString(0, word.slice(i, i + CHARS_PER_TOKEN)) % VOCABULARY_SIZE);
    }
  }
  return ids;
}

export interface ChatMessage {
  role: string;
  content: string;
}

/** Token ids of a chat conversation rendered through a chat template. */
export function tokenizeChat(messages: readonly ChatMessage[]): number[] {
  const ids: number[] = [];
  for (const message of messages) {
    const roleId = hashString(1, message.role) % VOCABULARY_SIZE;
    for (let i = 0; i < MESSAGE_TEMPLATE_TOKENS; i++) ids.push(i === 1 ? roleId : VOCABULARY_SIZE + i);
    for (const id of tokenizeText(message.content)) ids.push(id);
  }
  for (let i = 0; i < ASSISTANT_PRIMING_TOKENS; i++) ids.push(VOCABULARY_SIZE + 10 + i);
  return ids;
}

/** A fingerprint of a prompt, which seeds the generated text and the pseudo-EOS. */
export function promptFingerprint(seed: number, tokenIds: readonly number[]): number {
  return hashInts(seed, tokenIds);
}

// Common words, so generated text looks like text in logs and terminals.
const WORDS = (
  "the of and to in is that it for as with was on be by this are at from or an have not " +
  "which but all they one more can has were will would their there been if when so what " +
  "about into than them some could other these time only new may also two then first any " +
  "model token server replica stream batch scale request latency throughput cluster node"
).split(" ");

/** The text of generated token `index` (0-based) for a prompt with this fingerprint. */
export function tokenText(fingerprint: number, index: number): string {
  return ` ${WORDS[mix32(fingerprint ^ Math.imul(index + 1, 0x9e3779b1)) % WORDS.length]}`;
}

/**
 * Where the model would stop on its own (its pseudo-EOS), for requests without ignore_eos:
 * geometric with the given mean, from the prompt's fingerprint (deterministic per prompt).
 */
export function naturalStopLength(fingerprint: number, meanTokens: number): number {
  if (meanTokens <= 1) return 1;
  const u = mix32(fingerprint ^ 0x5bd1e995) / 4294967296;
  return 1 + Math.floor(Math.log1p(-u) / Math.log1p(-1 / meanTokens));
}
