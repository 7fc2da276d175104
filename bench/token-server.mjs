#!/usr/bin/env node
// A deliberately simple OpenAI-style streaming server for the client benchmarks: every stream
// gets one token every --gap-ms (after --first-ms), as one SSE event with continuous usage, then
// a usage event and [DONE]. It records its own write times per request (x-request-id), served at
// GET /stats, so the client's measurements can be checked against the server's clock. It runs in
// its own process (`node bench/token-server.mjs --port 0`) and prints {"port":N} once listening.
import { createServer } from "node:http";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    "gap-ms": { type: "string", default: "20" },
    "first-ms": { type: "string", default: "20" },
    "record-times": { type: "boolean", default: false },
  },
});
const gapMs = Number(values["gap-ms"]);
const firstMs = Number(values["first-ms"]);
const recordTimes = values["record-times"];
const epoch = () => performance.timeOrigin + performance.now();

const stats = new Map(); // request id → { arrived, writes: [epoch ms] }
let eventsWritten = 0;
let activeStreams = 0;
let maxActiveStreams = 0;

function event(text, completion, prompt) {
  return `data: {"id":"cmpl-b","object":"text_completion","created":0,"model":"bench-model","choices":[{"index":0,"text":"${text}","logprobs":null,"finish_reason":${completion === null ? "null" : "null"},"stop_reason":null}],"usage":{"prompt_tokens":${prompt},"total_tokens":${prompt + completion},"completion_tokens":${completion}}}\n\n`;
}

const server = createServer((req, res) => {
  if (req.url === "/v1/models") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ object: "list", data: [{ id: "bench-model", object: "model" }] }));
    return;
  }
  if (req.url?.startsWith("/stats")) {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        eventsWritten,
        maxActiveStreams,
        requests: recordTimes ? Object.fromEntries(stats) : {},
      }),
    );
    if (req.url.includes("reset")) {
      stats.clear();
      eventsWritten = 0;
      maxActiveStreams = 0;
    }
    return;
  }
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const arrived = epoch();
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      res.writeHead(400, { "content-type": "application/json" });
      res.end('{"error":{"message":"bad json"}}');
      return;
    }
    const maxTokens = body.max_tokens ?? 16;
    const prompt = Array.isArray(body.prompt)
      ? body.prompt.length
      : String(body.prompt ?? "").split(" ").length;
    const id = req.headers["x-request-id"] ?? "";
    const record = recordTimes ? { arrived, writes: [] } : undefined;
    if (record) stats.set(id, record);
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    res.flushHeaders();
    activeStreams += 1;
    maxActiveStreams = Math.max(maxActiveStreams, activeStreams);
    let sent = 0;
    let interval;
    const tick = () => {
      sent += 1;
      res.write(event("tok", sent, prompt));
      eventsWritten += 1;
      if (record) record.writes.push(epoch());
      if (sent >= maxTokens) {
        clearInterval(interval);
        activeStreams -= 1;
        res.end(
          `data: {"id":"cmpl-b","object":"text_completion","created":0,"model":"bench-model","choices":[],"usage":{"prompt_tokens":${prompt},"total_tokens":${prompt + sent},"completion_tokens":${sent}}}\n\ndata: [DONE]\n\n`,
        );
      }
    };
    const first = setTimeout(() => {
      tick();
      if (sent < maxTokens) interval = setInterval(tick, gapMs);
    }, firstMs);
    res.on("close", () => {
      if (sent < maxTokens) {
        clearTimeout(first);
        clearInterval(interval);
        activeStreams -= 1;
      }
    });
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(values.port), "127.0.0.1", () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.on("SIGTERM", () => process.exit(0));
process.on("disconnect", () => process.exit(0));
