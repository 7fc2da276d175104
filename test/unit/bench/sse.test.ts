import { describe, expect, it } from "vitest";
import { SseParser } from "../../../src/bench/sse.js";
import { Random } from "../../../src/random.js";

interface Seen {
  data: string;
  type?: string;
}

/** Feeds `pieces` one read at a time and returns the events as text. */
function parse(pieces: Uint8Array[], finish = true): Seen[] {
  const seen: Seen[] = [];
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const parser = new SseParser((bytes, start, end, type) => {
    const event: Seen = { data: decoder.decode(bytes.slice(start, end)) };
    if (type !== undefined) event.type = type;
    seen.push(event);
  });
  for (const piece of pieces) {
    // Each read is a fresh buffer that the "network" overwrites afterwards, as a socket would.
    const copy = Uint8Array.from(piece);
    parser.push(copy);
    copy.fill(0x58);
  }
  if (finish) parser.end();
  return seen;
}

function splitAt(bytes: Uint8Array, points: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let last = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(last, p));
    last = p;
  }
  return out;
}

const encode = (text: string) => new TextEncoder().encode(text);

// A stream with every feature the parser must get right; the events it holds, written by hand.
const STREAM = encode(
  [
    ": a comment line, then a keep-alive comment\n",
    ":\n",
    'data: {"choices":[{"text":"héllo wörld 世界 🎉"}]}\n',
    "\n",
    "data:no space after the colon\r\n",
    "\r\n",
    "data: first line\n",
    "data: second line\n",
    "data\n", // a field name alone: an empty data line
    "\n",
    "event: error\n",
    'data: {"error":"boom"}\n',
    "\n",
    "id: 7\n",
    "retry: 1000\n",
    "data:  two spaces keep one\r",
    "\r",
    "data: \n", // empty data is still an event
    "\n",
    "\n", // a blank line without data dispatches nothing
    "data: [DONE]\n",
    "\n",
  ].join(""),
);

const EXPECTED: Seen[] = [
  { data: '{"choices":[{"text":"héllo wörld 世界 🎉"}]}' },
  { data: "no space after the colon" },
  { data: "first line\nsecond line\n" },
  { data: '{"error":"boom"}', type: "error" },
  { data: " two spaces keep one" },
  { data: "" },
  { data: "[DONE]" },
];

describe("the SSE parser", () => {
  it("reads a stream delivered in one piece", () => {
    expect(parse([STREAM])).toEqual(EXPECTED);
  });

  it("gives the same events for a split at every byte position", () => {
    for (let p = 0; p <= STREAM.length; p++) {
      expect(parse(splitAt(STREAM, [p])), `split at ${p}`).toEqual(EXPECTED);
    }
  });

  it("gives the same events when fed byte by byte (multi-byte characters and CRLF split too)", () => {
    const bytes = [...STREAM].map((b) => Uint8Array.of(b));
    expect(parse(bytes)).toEqual(EXPECTED);
  });

  it("gives the same events for every pair of split points in a CRLF + UTF-8 stretch", () => {
    const stretch = encode("data: 🎉é\r\ndata: x\r\n\r\ndata: y\r\r\n");
    const expected: Seen[] = [{ data: "🎉é\nx" }, { data: "y" }];
    for (let a = 0; a <= stretch.length; a++) {
      for (let b = a; b <= stretch.length; b++) {
        expect(parse(splitAt(stretch, [a, b])), `splits ${a},${b}`).toEqual(expected);
      }
    }
  });

  it("gives the same events for 500 random chunkings", () => {
    const rng = new Random(42);
    for (let round = 0; round < 500; round++) {
      const points: number[] = [];
      for (let p = rng.int(8); p < STREAM.length; p += 1 + rng.int(39)) points.push(p);
      expect(parse(splitAt(STREAM, points)), `round ${round}`).toEqual(EXPECTED);
    }
  });

  it("dispatches a last event that lacks only its blank line, but not a half-received line", () => {
    expect(parse([encode("data: a\n\ndata: [DONE]\n")])).toEqual([{ data: "a" }, { data: "[DONE]" }]);
    expect(parse([encode('data: a\n\ndata: {"choices":[{"te')])).toEqual([{ data: "a" }]);
    expect(parse([encode("data: a\n\ndata: [DONE]\n")], false)).toEqual([{ data: "a" }]);
  });

  it("skips a byte-order mark at the start, even split across reads, and only there", () => {
    const withBom = Uint8Array.of(0xef, 0xbb, 0xbf, ...encode("data: a\n\n"));
    for (let p = 0; p <= withBom.length; p++) {
      expect(parse(splitAt(withBom, [p]))).toEqual([{ data: "a" }]);
    }
    const notABom = Uint8Array.of(0xef, ...encode("data: a\n\n"));
    // 0xEF alone is not a BOM: it stays part of the (unknown) first field, which is ignored.
    expect(parse([notABom.subarray(0, 1), notABom.subarray(1)], true).length).toBe(0);
  });
});
