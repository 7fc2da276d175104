#!/usr/bin/env node
/**
 * Writes plans/data/mooncake-sample.jsonl, the small trace plans/replay.yaml replays: 60 requests
 * over about 3 s in Mooncake's JSONL format ({"timestamp": ms, "input_length", "output_length",
 * "hash_ids"}): Poisson arrivals at 20 req/s, and prompt and answer lengths that vary from row
 * to row, as a recorded trace's do. Deterministic: the same file every time.
 *
 *   node scripts/make-mooncake-sample.mjs [OUT]
 */
import { writeFileSync } from "node:fs";

const out = process.argv[2] ?? new URL("../plans/data/mooncake-sample.jsonl", import.meta.url).pathname;
const BLOCK = 512;

// mulberry32: a small seeded generator, so the script needs nothing built.
let state = 19;
const random = () => {
  state = (state + 0x6d2b79f5) >>> 0;
  let z = state;
  z = Math.imul(z ^ (z >>> 15), z | 1);
  z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
  return ((z ^ (z >>> 14)) >>> 0) / 2 ** 32;
};

const lines = [];
let t = 0;
let nextHash = 0;
for (let i = 0; i < 60; i++) {
  t += -Math.log(1 - random()) * 50;
  const input = 200 + Math.floor(random() * 1800);
  const output = 16 + Math.floor(random() * 112);
  const hashIds = Array.from({ length: Math.ceil(input / BLOCK) }, () => nextHash++);
  lines.push(
    JSON.stringify({
      timestamp: Math.round(t),
      input_length: input,
      output_length: output,
      hash_ids: hashIds,
    }),
  );
}
writeFileSync(out, `${lines.join("\n")}\n`);
process.stdout.write(`${out}: ${lines.length} requests over ${(Math.round(t) / 1000).toFixed(1)} s\n`);
