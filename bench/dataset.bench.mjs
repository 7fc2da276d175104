#!/usr/bin/env node
import { once } from "node:events";
// Benchmark: reading a ShareGPT file before a run. Writes a ShareGPT-format file of SIZE_MB
// (default 100; vLLM's ShareGPT_V3 file is about 650 MB) of generated conversations, then times the
// check every run does first (scanDataset: streamed, every element parsed alone) and reports the
// rate and the peak resident memory, which must stay far below the file's size.
import { createWriteStream, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const { scanDataset } = await import(new URL("../dist/workloads/dataset.js", import.meta.url).href);

const SIZE_MB = Number(process.env.SIZE_MB ?? 100);
const root = mkdtempSync(join(tmpdir(), "dataset-bench-"));
const path = join(root, "sharegpt.json");
const WORDS =
  "the of and to in is was for on that with as by at from his her an be this which or are had".split(" ");

let state = 7;
const random = () => {
  state = (Math.imul(state, 1103515245) + 12345) >>> 0;
  return state / 2 ** 32;
};
const sentence = (n) => Array.from({ length: n }, () => WORDS[Math.floor(random() * WORDS.length)]).join(" ");

try {
  const out = createWriteStream(path);
  out.write("[");
  let written = 0;
  for (let n = 0; written < SIZE_MB * 1e6; n++) {
    const conversation = {
      id: `c${n}`,
      conversations: [
        { from: "human", value: sentence(20 + Math.floor(random() * 380)) },
        { from: "gpt", value: `${sentence(20 + Math.floor(random() * 580))} "quoted" \\ {braces}` },
      ],
    };
    const text = `${n > 0 ? ",\n" : ""}${JSON.stringify(conversation, null, 1)}`;
    written += text.length;
    if (!out.write(text)) await once(out, "drain");
  }
  out.end("]\n");
  await once(out, "finish");

  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const started = performance.now();
  const summary = await scanDataset({ format: "sharegpt", path }, { outputTokens: 128 });
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  const mb = statSync(path).size / 1e6;
  console.log("file MB  conversations  seconds  MB/s  peak RSS MB");
  console.log(
    [
      mb.toFixed(0).padStart(7),
      String(summary.rows).padStart(13),
      seconds.toFixed(2).padStart(7),
      (mb / seconds).toFixed(0).padStart(5),
      (peak / 1e6).toFixed(0).padStart(11),
    ].join("  "),
  );
} finally {
  rmSync(root, { recursive: true, force: true });
}
