/**
 * An incremental Server-Sent Events parser that works on bytes, as they come off the socket.
 *
 * Reads split events, lines, `\r\n` pairs and multi-byte UTF-8 characters anywhere; the parser
 * never decodes text itself (event payloads are handed over as byte ranges), so a character split
 * across two reads is simply two byte runs that end up side by side. It follows the WHATWG
 * event-stream rules (LF, CR or CRLF line ends; `:` comments; one optional space after the colon;
 * multi-line `data` joined with LF; an event is dispatched at a blank line), with one deliberate
 * leniency: at the end of the stream, a final event whose last line was complete but that lacks
 * its blank line is still dispatched, because some servers end with `data: [DONE]\n`.
 *
 * It is on the hot path (one call per network read, tens of thousands per second): in the common
 * case, an event that sits whole inside one read is handed over as a view of that read, without
 * copying; only events split across reads or spread over several `data` lines are copied, into a
 * buffer that is reused.
 */

/**
 * Called once per event. `bytes[start, end)` is the event's data, valid only during the call.
 * `eventType` is the `event:` field when the server sent one (undefined means "message").
 */
export type SseEventHandler = (bytes: Uint8Array, start: number, end: number, eventType?: string) => void;

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const SPACE = 0x20;
const BOM = [0xef, 0xbb, 0xbf] as const;

export class SseParser {
  /** A line that started in an earlier read and has not ended yet. */
  private partialLine: Uint8Array = new Uint8Array(256);
  private partialLength = 0;
  /** The data of the event being assembled, once it had to be copied. */
  private data: Uint8Array = new Uint8Array(1024);
  private dataLength = 0;
  private dataLines = 0;
  /** The event's only data line so far, as a view of the current read (not yet copied). */
  private viewBytes: Uint8Array | undefined;
  private viewStart = 0;
  private viewEnd = 0;
  private eventType: string | undefined;
  /** The previous read ended in CR, so an LF at the start of this one belongs to it. */
  private pendingCR = false;
  /** Bytes of a leading byte-order mark seen so far (-1 once past the start of the stream). */
  private bomSeen = 0;
  /** The last line of the stream so far ended with a line break. */
  private atLineStart = true;

  constructor(private readonly onEvent: SseEventHandler) {}

  push(chunk: Uint8Array): void {
    let i = 0;
    const n = chunk.length;
    if (this.bomSeen >= 0) i = this.skipBom(chunk);
    if (this.pendingCR && i < n) {
      this.pendingCR = false;
      if (chunk[i] === LF) i += 1;
    }
    while (i < n) {
      let j = i;
      while (j < n) {
        const byte = chunk[j];
        if (byte === LF || byte === CR) break;
        j += 1;
      }
      if (j === n) {
        this.appendPartial(chunk, i, n);
        this.atLineStart = false;
        break;
      }
      if (this.partialLength > 0) {
        this.appendPartial(chunk, i, j);
        this.line(this.partialLine, 0, this.partialLength, false);
        this.partialLength = 0;
      } else {
        this.line(chunk, i, j, true);
      }
      this.atLineStart = true;
      if (chunk[j] === CR) {
        if (j + 1 === n) this.pendingCR = true;
        else if (chunk[j + 1] === LF) j += 1;
      }
      i = j + 1;
    }
    // A view into this read must not outlive it: the caller may reuse the buffer.
    if (this.viewBytes) this.copyView();
  }

  /** The stream ended: dispatch a final event whose last line was complete (see above). */
  end(): void {
    if (this.atLineStart && this.dataLines > 0) this.dispatch();
    this.reset();
  }

  private reset(): void {
    this.partialLength = 0;
    this.dataLength = 0;
    this.dataLines = 0;
    this.viewBytes = undefined;
    this.eventType = undefined;
    this.pendingCR = false;
    this.bomSeen = 0;
    this.atLineStart = true;
  }

  private skipBom(chunk: Uint8Array): number {
    let i = 0;
    while (this.bomSeen >= 0 && this.bomSeen < 3 && i < chunk.length) {
      if (chunk[i] !== BOM[this.bomSeen]) {
        // Not a BOM after all: the bytes matched so far were content.
        const matched = this.bomSeen;
        this.bomSeen = -1;
        if (matched > 0) this.appendPartial(Uint8Array.from(BOM.slice(0, matched)), 0, matched);
        return i;
      }
      this.bomSeen += 1;
      i += 1;
    }
    if (this.bomSeen === 3) this.bomSeen = -1;
    return i;
  }

  private line(bytes: Uint8Array, start: number, end: number, inCurrentRead: boolean): void {
    if (start === end) {
      this.dispatch();
      return;
    }
    if (bytes[start] === COLON) return; // comment
    let colon = start;
    while (colon < end && bytes[colon] !== COLON) colon += 1;
    let valueStart = colon < end ? colon + 1 : end;
    if (valueStart < end && bytes[valueStart] === SPACE) valueStart += 1;
    const nameLength = colon - start;
    if (nameLength === 4 && isData(bytes, start)) this.dataLine(bytes, valueStart, end, inCurrentRead);
    else if (nameLength === 5 && isEvent(bytes, start)) {
      this.eventType = Buffer.from(bytes.buffer, bytes.byteOffset + valueStart, end - valueStart).toString(
        "utf8",
      );
    }
    // `id` and `retry` mean nothing to a benchmark client; unknown fields are ignored by the spec.
  }

  private dataLine(bytes: Uint8Array, start: number, end: number, inCurrentRead: boolean): void {
    if (this.dataLines === 0 && inCurrentRead) {
      this.viewBytes = bytes;
      this.viewStart = start;
      this.viewEnd = end;
      this.dataLines = 1;
      return;
    }
    if (this.viewBytes) this.copyView();
    if (this.dataLines > 0) this.appendData([LF], 0, 1);
    this.appendData(bytes, start, end);
    this.dataLines += 1;
  }

  private dispatch(): void {
    if (this.dataLines > 0) {
      if (this.viewBytes) this.onEvent(this.viewBytes, this.viewStart, this.viewEnd, this.eventType);
      else this.onEvent(this.data, 0, this.dataLength, this.eventType);
    }
    this.viewBytes = undefined;
    this.dataLength = 0;
    this.dataLines = 0;
    this.eventType = undefined;
  }

  private copyView(): void {
    const view = this.viewBytes;
    if (!view) return;
    this.viewBytes = undefined;
    this.dataLength = 0;
    this.appendData(view, this.viewStart, this.viewEnd);
  }

  private appendData(bytes: ArrayLike<number>, start: number, end: number): void {
    this.data = ensureCapacity(this.data, this.dataLength, end - start);
    copyInto(this.data, this.dataLength, bytes, start, end);
    this.dataLength += end - start;
  }

  private appendPartial(bytes: Uint8Array, start: number, end: number): void {
    this.partialLine = ensureCapacity(this.partialLine, this.partialLength, end - start);
    this.partialLine.set(bytes.subarray(start, end), this.partialLength);
    this.partialLength += end - start;
  }
}

function isData(b: Uint8Array, i: number): boolean {
  return b[i] === 0x64 && b[i + 1] === 0x61 && b[i + 2] === 0x74 && b[i + 3] === 0x61;
}

function isEvent(b: Uint8Array, i: number): boolean {
  return b[i] === 0x65 && b[i + 1] === 0x76 && b[i + 2] === 0x65 && b[i + 3] === 0x6e && b[i + 4] === 0x74;
}

function ensureCapacity(buffer: Uint8Array, used: number, extra: number): Uint8Array {
  if (used + extra <= buffer.length) return buffer;
  const grown = new Uint8Array(Math.max(buffer.length * 2, used + extra));
  grown.set(buffer.subarray(0, used));
  return grown;
}

function copyInto(
  target: Uint8Array,
  at: number,
  source: ArrayLike<number>,
  start: number,
  end: number,
): void {
  if (source instanceof Uint8Array) target.set(source.subarray(start, end), at);
  else for (let k = start; k < end; k++) target[at + k - start] = source[k] as number;
}
