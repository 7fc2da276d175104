#!/usr/bin/env node
// A deliberately simple OpenAI-style streaming server for the client benchmarks: every stream
// gets one token every --gap-ms (after --first-ms), as one SSE event with continuous usage, then
// a usage event and [DONE]. /v1/chat/completions streams vLLM's chat shape: a role-only event
// first, then content deltas. It records its own write times per request (x-request-id), served at
// GET /stats, so the client's measurements can be checked against the server's clock. It runs in
// its own process (`node bench/token-server.mjs --port 0`) and prints {"port":N} once listening.
import { createServer } from "node:http";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    "gap-ms": { type: "string", default: "20" },
    "first-ms": { type: "string", default: "20" },
    // Up to this much more before the first token, uniformly at random per request: streams that
    // all start together would otherwise stay in lockstep and reach the server in bursts.
    "first-jitter-ms": { type: "string", default: "0" },
    "record-times": { type: "boolean", default: false },
  },
});
const gapMs = Number(values["gap-ms"]);
const firstMs = Number(values["first-ms"]);
const firstJitterMs = Number(values["first-jitter-ms"]);
const recordTimes = values["record-times"];
const epoch = () => performance.timeOrigin + performance.now();

const stats = new Map(); // request id → { arrived, writes: [epoch ms] }
// The server's own event-loop delay: a request that arrives while the loop is busy is read late,
// which a client sees as latency and the server's own timestamps do not.
let loopDelay = monitorEventLoopDelay({ resolution: 1 });
loopDelay.enable();
const loopMs = (p) => (loopDelay.count > 0 ? Math.max(0, loopDelay.percentile(p) / 1e6 - 1) : 0);
let eventsWritten = 0;
let activeStreams = 0;
let maxActiveStreams = 0;

function usage(prompt, completion) {
  return `"usage":{"prompt_tokens":${prompt},"total_tokens":${prompt + completion},"completion_tokens":${completion}}`;
}

function event(text, completion, prompt) {
  return `data: {"id":"cmpl-b","object":"text_completion","created":0,"model":"bench-model","choices":[{"index":0,"text":"${text}","logprobs":null,"finish_reason":null,"stop_reason":null}],${usage(prompt, completion)}}\n\n`;
}

function chatEvent(delta, completion, prompt) {
  return `data: {"id":"chatcmpl-b","object":"chat.completion.chunk","created":0,"model":"bench-model","choices":[{"index":0,"delta":${delta},"logprobs":null,"finish_reason":null}],${usage(prompt, completion)}}\n\n`;
}

const server = createServer((req, res) => {
  if (req.url === "/v1/models") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ object: "list", data: [{ id: "bench-model", object: "model" }] }));
    return;
  }
  if (req.url === "/clock") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ epoch: epoch() }));
    return;
  }
  if (req.url?.startsWith("/stats")) {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        eventsWritten,
        maxActiveStreams,
        loopDelayP50Ms: loopMs(50),
        loopDelayP99Ms: loopMs(99),
        requests: recordTimes ? Object.fromEntries(stats) : {},
      }),
    );
    if (req.url.includes("reset")) {
      stats.clear();
      eventsWritten = 0;
      maxActiveStreams = 0;
      loopDelay.disable();
      loopDelay = monitorEventLoopDelay({ resolution: 1 });
      loopDelay.enable();
    }
    return;
  }
  // The request's arrival is when its headers were parsed: the earliest moment the server knows.
  const arrived = epoch();
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      res.writeHead(400, { "content-type": "application/json" });
      res.end('{"error":{"message":"bad json"}}');
      return;
    }
    const maxTokens = body.max_tokens ?? 16;
    const chat = req.url === "/v1/chat/completions";
    const text = chat ? (body.messages ?? []).map((m) => m.content).join(" ") : body.prompt;
    const prompt = Array.isArray(text) ? text.length : String(text ?? "").split(" ").length;
    const id = req.headers["x-request-id"] ?? "";
    const record = recordTimes ? { arrived, writes: [] } : undefined;
    if (record) stats.set(id, record);
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      "transfer-encoding": "chunked",
    });
    res.flushHeaders();
    activeStreams += 1;
    maxActiveStreams = Math.max(maxActiveStreams, activeStreams);
    let sent = 0;
    let interval;
    // Frame each HTTP chunk ourselves and write it to the socket in one piece: res.write's
    // generic chunked path costs a large share of a core at 10⁵ writes per second, and this
    // server must not be what limits the client benchmark.
    const write = (data) => {
      const socket = res.socket;
      if (socket?.writable && socket._httpMessage === res) {
        socket.write(`${Buffer.byteLength(data).toString(16)}\r\n${data}\r\n`);
      } else {
        res.write(data);
      }
    };
    if (chat) write(chatEvent('{"role":"assistant","content":""}', 0, prompt));
    const tick = () => {
      sent += 1;
      write(chat ? chatEvent('{"content":"tok"}', sent, prompt) : event("tok", sent, prompt));
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
    const first = setTimeout(
      () => {
        tick();
        if (sent < maxTokens) interval = setInterval(tick, gapMs);
      },
      firstMs + Math.random() * firstJitterMs,
    );
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
