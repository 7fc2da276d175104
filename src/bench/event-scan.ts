/**
 * What one streamed completion event says, read straight from its bytes.
 *
 * A benchmark client needs five facts per event (is it `[DONE]`, does it carry text, how many
 * bytes of text, the finish reason, the usage counts) and nothing else. Decoding every event to a
 * string and running JSON.parse on it costs more than the rest of the per-event path together at
 * tens of thousands of events per second, so the common shapes are scanned in place. The scan is
 * safe because a JSON key pattern such as `"text":` cannot occur inside a string value (quotes
 * there are escaped). Anything the scan does not recognise goes through JSON.parse (`parseEvent`),
 * and a test checks that both paths agree on every shape we know.
 */

export interface CompletionEvent {
  kind: "done" | "data" | "error";
  /**
   * A non-empty `choices[0].text` (completions) or, in chat, `choices[0].delta.content` or the
   * reasoning a reasoning model streams before its answer (`reasoning_content`, or `reasoning`
   * in newer vLLM): those are generated tokens too, so the first of them is the first token.
   */
  hasText: boolean;
  /** UTF-8 bytes of that text as sent (escapes counted as written): only a relative weight. */
  textBytes: number;
  finishReason: string | null;
  /** From `usage`, when the event has one (the final event, or every event with continuous usage). */
  promptTokens: number;
  completionTokens: number;
  hasUsage: boolean;
  /** For kind "error": what the server said. */
  errorMessage?: string;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

const COLON = 0x3a;
const DONE = Buffer.from("[DONE]");
const key = (name: string) => Buffer.from(name);
const KEY_CHOICES = key("choices");
const KEY_TEXT = key("text");
const KEY_CONTENT = key("content");
const KEY_REASONING = key("reasoning");
const KEY_REASONING_CONTENT = key("reasoning_content");
const KEY_FINISH = key("finish_reason");
const KEY_PROMPT_TOKENS = key("prompt_tokens");
const KEY_COMPLETION_TOKENS = key("completion_tokens");

/** Reused result object: the caller reads it before the next call. */
const scratch: CompletionEvent = {
  kind: "data",
  hasText: false,
  textBytes: 0,
  finishReason: null,
  promptTokens: 0,
  completionTokens: 0,
  hasUsage: false,
};

function resetScratch(): CompletionEvent {
  scratch.kind = "data";
  scratch.hasText = false;
  scratch.textBytes = 0;
  scratch.finishReason = null;
  scratch.promptTokens = 0;
  scratch.completionTokens = 0;
  scratch.hasUsage = false;
  scratch.errorMessage = undefined;
  return scratch;
}

/**
 * Scans one event's data in a single pass over its bytes: every string is skipped whole (escapes
 * included), and a string followed by `:` is a key; the few keys we need have their values read
 * in place. The returned object is reused by the next call; copy what you keep. Anything that is
 * not a completion chunk (no "choices": errors, unknown shapes) goes through JSON.parse.
 */
export function scanEvent(bytes: Uint8Array, start: number, end: number): CompletionEvent {
  const out = resetScratch();
  if (end - start === DONE.length && equalAt(bytes, start, DONE)) {
    out.kind = "done";
    return out;
  }
  let sawChoices = false;
  let i = start;
  while (i < end) {
    if (bytes[i] !== QUOTE) {
      i += 1;
      continue;
    }
    const nameStart = i + 1;
    const nameEnd = stringEnd(bytes, nameStart, end);
    if (nameEnd < 0) return parseEvent(bytes, start, end);
    let v = skipSpace(bytes, nameEnd + 1, end);
    if (bytes[v] !== COLON) {
      i = nameEnd + 1; // a string value, not a key
      continue;
    }
    v = skipSpace(bytes, v + 1, end);
    const length = nameEnd - nameStart;
    i = v;
    if (length === 7 && equalAt(bytes, nameStart, KEY_CHOICES)) {
      sawChoices = true;
    } else if (isTextKey(bytes, nameStart, length)) {
      if (bytes[v] === QUOTE) {
        const close = stringEnd(bytes, v + 1, end);
        if (close < 0) return parseEvent(bytes, start, end);
        out.textBytes += close - v - 1;
        out.hasText = out.textBytes > 0;
        i = close + 1;
      } else if (bytes[v] !== 0x6e /* null */) {
        return parseEvent(bytes, start, end);
      }
    } else if (length === 13 && equalAt(bytes, nameStart, KEY_FINISH)) {
      if (bytes[v] === QUOTE) {
        const close = stringEnd(bytes, v + 1, end);
        if (close < 0) return parseEvent(bytes, start, end);
        out.finishReason = asBuffer(bytes).toString("latin1", v + 1, close);
        i = close + 1;
      }
    } else if (length === 13 && equalAt(bytes, nameStart, KEY_PROMPT_TOKENS)) {
      out.promptTokens = Math.max(readInt(bytes, v, end), 0);
    } else if (length === 17 && equalAt(bytes, nameStart, KEY_COMPLETION_TOKENS)) {
      const completion = readInt(bytes, v, end);
      if (completion < 0) return parseEvent(bytes, start, end);
      out.completionTokens = completion;
      out.hasUsage = true;
    }
  }
  // Error events (`{"error": …}`) have no "choices"; they and anything unusual take the slow path.
  if (!sawChoices) return parseEvent(bytes, start, end);
  if (!out.hasUsage) out.promptTokens = 0;
  return out;
}

function isTextKey(bytes: Uint8Array, at: number, length: number): boolean {
  return (
    (length === 4 && equalAt(bytes, at, KEY_TEXT)) ||
    (length === 7 && equalAt(bytes, at, KEY_CONTENT)) ||
    (length === 9 && equalAt(bytes, at, KEY_REASONING)) ||
    (length === 17 && equalAt(bytes, at, KEY_REASONING_CONTENT))
  );
}

/** The slow path, and the reference the fast path is tested against. */
export function parseEvent(bytes: Uint8Array, start: number, end: number): CompletionEvent {
  const out = resetScratch();
  const text = asBuffer(bytes).toString("utf8", start, end);
  if (text === "[DONE]") {
    out.kind = "done";
    return out;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    out.kind = "error";
    out.errorMessage = `not JSON: ${clip(text)}`;
    return out;
  }
  if (!isObject(value)) {
    out.kind = "error";
    out.errorMessage = `not a JSON object: ${clip(text)}`;
    return out;
  }
  if (value.error !== undefined && value.error !== null) {
    out.kind = "error";
    out.errorMessage = errorText(value.error);
    return out;
  }
  const choices = value.choices;
  if (choices !== undefined && !Array.isArray(choices)) {
    out.kind = "error";
    out.errorMessage = `"choices" is not a list: ${clip(text)}`;
    return out;
  }
  const choice = Array.isArray(choices) && isObject(choices[0]) ? choices[0] : undefined;
  if (choice) {
    const delta = isObject(choice.delta) ? choice.delta : undefined;
    const pieces = [choice.text, delta?.content, delta?.reasoning_content, delta?.reasoning];
    for (const piece of pieces) {
      if (typeof piece === "string") out.textBytes += JSON.stringify(piece).length - 2;
    }
    out.hasText = out.textBytes > 0;
    if (typeof choice.finish_reason === "string") out.finishReason = choice.finish_reason;
  }
  const usage = value.usage;
  if (isObject(usage) && typeof usage.completion_tokens === "number") {
    out.hasUsage = true;
    out.completionTokens = usage.completion_tokens;
    out.promptTokens = typeof usage.prompt_tokens === "number" ? usage.prompt_tokens : 0;
  }
  return out;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function equalAt(bytes: Uint8Array, at: number, word: Uint8Array): boolean {
  for (let k = 0; k < word.length; k++) if (bytes[at + k] !== word[k]) return false;
  return true;
}

function skipSpace(bytes: Uint8Array, from: number, end: number): number {
  let i = from;
  while (i < end && isSpace(bytes[i])) i += 1;
  return i;
}

/** Index of the quote closing a string whose content starts at `from`, or -1. */
function stringEnd(bytes: Uint8Array, from: number, end: number): number {
  for (let i = from; i < end; i++) {
    const byte = bytes[i];
    if (byte === BACKSLASH) i += 1;
    else if (byte === QUOTE) return i;
  }
  return -1;
}

function readInt(bytes: Uint8Array, at: number, end: number): number {
  let value = 0;
  let i = at;
  while (i < end) {
    const digit = (bytes[i] as number) - 0x30;
    if (digit < 0 || digit > 9) break;
    value = value * 10 + digit;
    i += 1;
  }
  return i === at ? -1 : value;
}

function isSpace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function errorText(error: unknown): string {
  if (typeof error === "string") return clip(error);
  if (isObject(error) && typeof error.message === "string") return clip(error.message);
  return clip(JSON.stringify(error));
}

function clip(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
