// The arrival server's thread (arrival-server.ts starts it and says why it exists). A worker
// thread has its own event loop and heap, so the test's own work (the coordinator, vitest, their
// garbage collections) does not delay its reads.
import { createServer } from "node:net";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { parentPort, workerData } from "node:worker_threads";

/** The answers, rendered by arrival-server.ts with the bench tests' event helpers (http-server.ts). */
const { models, tokenEvent, lastTokenEvent, endEvents } = workerData;

const HEADER_END = "\r\n\r\n";
/**
 * When each request's last byte was read, by x-request-id: ms of the system's monotonic clock
 * (process.hrtime), which every thread and process shares, unlike performance.now(), whose zero is
 * each thread's own start.
 */
const arrivals = new Map();
const sockets = new Set();
/** This thread's own stalls: a request read late by the server is late by at most the longest. */
const loopLag = monitorEventLoopDelay({ resolution: 2 });
loopLag.enable();

const server = createServer((socket) => {
  sockets.add(socket);
  socket.on("close", () => sockets.delete(socket));
  socket.on("error", () => {});
  socket.setNoDelay(true);
  // latin1: one char per byte, so Content-Length counts chars (undici's bodies here are ASCII).
  socket.setEncoding("latin1");
  let pending = "";
  socket.on("data", (text) => {
    const readAt = Number(process.hrtime.bigint()) / 1e6;
    pending += text;
    for (;;) {
      const headerEnd = pending.indexOf(HEADER_END);
      if (headerEnd < 0) return;
      const head = pending.slice(0, headerEnd);
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      const bodyStart = headerEnd + HEADER_END.length;
      if (pending.length < bodyStart + length) return;
      const body = pending.slice(bodyStart, bodyStart + length);
      pending = pending.slice(bodyStart + length);
      socket.write(answer(head, body, readAt));
    }
  });
});

function answer(head, body, readAt) {
  if (head.startsWith("GET /v1/models")) return response("application/json", models);
  if (!head.startsWith("POST ")) return response("text/plain", "not found", "404 Not Found");
  const id = /\r\nx-request-id: *([^\r\n]+)/i.exec(head)?.[1];
  if (id !== undefined) arrivals.set(id, readAt);
  const tokens = Number(/"max_tokens":(\d+)/.exec(body)?.[1] ?? 1);
  if (!(tokens >= 1 && tokens < endEvents.length))
    return response(
      "text/plain",
      `max_tokens ${tokens}: this server streams 1 to ${endEvents.length - 1}`,
      "400 Bad Request",
    );
  return response("text/event-stream", tokenEvent.repeat(tokens - 1) + lastTokenEvent + endEvents[tokens]);
}

function response(contentType, body, status = "200 OK") {
  return `HTTP/1.1 ${status}\r\ncontent-type: ${contentType}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: keep-alive\r\n\r\n${body}`;
}

parentPort.on("message", (message) => {
  if (message === "arrivals") {
    parentPort.postMessage({
      arrivals: [...arrivals],
      // The histogram holds whole sampling intervals, so its max covers a stall's unseen start.
      loopLagMaxMs: loopLag.count === 0 ? 2 : loopLag.max / 1e6,
    });
  } else if (message === "close") {
    for (const socket of sockets) socket.destroy();
    server.close(() => parentPort.close());
  }
});

server.listen(0, "127.0.0.1", () => parentPort.postMessage({ port: server.address().port }));
