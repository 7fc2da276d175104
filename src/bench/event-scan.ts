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
  /** A non-empty `choices[0].text` (completions) or `choices[0].delta.content` (chat). */
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

const DONE = Buffer.from("[DONE]");
const KEY_CHOICES = Buffer.from('"choices"');
const KEY_TEXT = Buffer.from('"text"');
const KEY_CONTENT = Buffer.from('"content"');
const KEY_FINISH = Buffer.from('"finish_reason"');
const KEY_USAGE = Buffer.from('"usage"');
const KEY_PROMPT_TOKENS = Buffer.from('"prompt_tokens"');
const KEY_COMPLETION_TOKENS = Buffer.from('"completion_tokens"');

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
 * Scans one event's data. The returned object is reused by the next call; copy what you keep.
 * Falls back to JSON.parse for shapes the fast path does not know.
 */
export function scanEvent(bytes: Uint8Array, start: number, end: number): CompletionEvent {
  const out = resetScratch();
  const buf = asBuffer(bytes);
  if (end - start === DONE.length && buf.indexOf(DONE, start) === start) {
    out.kind = "done";
    return out;
  }
  const choices = find(buf, KEY_CHOICES, start, end);
  // Error events (`{"error": …}`) have no "choices"; they and anything unusual take the slow path.
  if (choices < 0) return parseEvent(buf, start, end);

  let textValue = valueStart(buf, find(buf, KEY_TEXT, choices, end), KEY_TEXT.length, end);
  if (textValue < 0)
    textValue = valueStart(buf, find(buf, KEY_CONTENT, choices, end), KEY_CONTENT.length, end);
  if (textValue >= 0) {
    const first = buf[textValue];
    if (first === QUOTE) {
      const close = stringEnd(buf, textValue + 1, end);
      if (close < 0) return parseEvent(buf, start, end);
      out.textBytes = close - textValue - 1;
      out.hasText = out.textBytes > 0;
    } else if (first !== 0x6e /* null */) {
      return parseEvent(buf, start, end);
    }
  }

  const finish = valueStart(buf, find(buf, KEY_FINISH, choices, end), KEY_FINISH.length, end);
  if (finish >= 0 && buf[finish] === QUOTE) {
    const close = stringEnd(buf, finish + 1, end);
    if (close < 0) return parseEvent(buf, start, end);
    out.finishReason = buf.toString("latin1", finish + 1, close);
  }

  const usage = valueStart(buf, find(buf, KEY_USAGE, start, end), KEY_USAGE.length, end);
  if (usage >= 0 && buf[usage] === 0x7b /* { */) {
    const prompt = readInt(buf, valueStart(buf, find(buf, KEY_PROMPT_TOKENS, usage, end), 15, end), end);
    const completion = readInt(
      buf,
      valueStart(buf, find(buf, KEY_COMPLETION_TOKENS, usage, end), 19, end),
      end,
    );
    if (completion < 0) return parseEvent(buf, start, end);
    out.hasUsage = true;
    out.completionTokens = completion;
    out.promptTokens = Math.max(prompt, 0);
  }
  return out;
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
    const piece = typeof choice.text === "string" ? choice.text : delta?.content;
    if (typeof piece === "string" && piece.length > 0) {
      out.hasText = true;
      out.textBytes = JSON.stringify(piece).length - 2;
    }
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

/** Index of `needle` in buf[from, end), or -1. */
function find(buf: Buffer, needle: Buffer, from: number, end: number): number {
  if (from < 0) return -1;
  const at = buf.indexOf(needle, from);
  return at >= 0 && at + needle.length <= end ? at : -1;
}

/** Where the value of a key found at `keyAt` starts (after `:` and whitespace), or -1. */
function valueStart(buf: Buffer, keyAt: number, keyLength: number, end: number): number {
  if (keyAt < 0) return -1;
  let i = keyAt + keyLength;
  while (i < end && isSpace(buf[i])) i += 1;
  if (buf[i] !== 0x3a) return -1;
  i += 1;
  while (i < end && isSpace(buf[i])) i += 1;
  return i < end ? i : -1;
}

/** Index of the quote closing a string whose content starts at `from`, or -1. */
function stringEnd(buf: Buffer, from: number, end: number): number {
  for (let i = from; i < end; i++) {
    const byte = buf[i];
    if (byte === BACKSLASH) i += 1;
    else if (byte === QUOTE) return i;
  }
  return -1;
}

function readInt(buf: Buffer, at: number, end: number): number {
  if (at < 0) return -1;
  let value = 0;
  let i = at;
  while (i < end) {
    const digit = (buf[i] as number) - 0x30;
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
