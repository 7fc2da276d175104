import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { performance } from "node:perf_hooks";

/**
 * Small HTTP servers for the bench tests, on 127.0.0.1 port 0. The completions handler is a
 * function of the request, so each test scripts exactly what the "server" does and when; every
 * write's time is recorded (same clock as the client, both in this process) as ground truth.
 */

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
  /** performance.now() when the whole request had arrived. */
  arrivedAt: number;
}

export type Handler = (req: ReceivedRequest, res: ServerResponse) => void | Promise<void>;

export interface TestServer {
  url: string;
  port: number;
  requests: ReceivedRequest[];
  /** Highest number of simultaneously open connections seen. */
  maxConnections: () => number;
  close(): Promise<void>;
}

export async function startTestServer(handler: Handler, models = ["test-model"]): Promise<TestServer> {
  const requests: ReceivedRequest[] = [];
  const sockets = new Set<Socket>();
  let maxConnections = 0;
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (d: Buffer) => parts.push(d));
    req.on("end", () => {
      const received: ReceivedRequest = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(parts).toString("utf8"),
        arrivedAt: performance.now(),
      };
      requests.push(received);
      if (received.url === "/v1/models") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ object: "list", data: models.map((id) => ({ id, object: "model" })) }));
        return;
      }
      Promise.resolve(handler(received, res)).catch((error: unknown) => {
        res.destroy(error instanceof Error ? error : new Error(String(error)));
      });
    });
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    maxConnections = Math.max(maxConnections, sockets.size);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    maxConnections: () => maxConnections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A vLLM-style completions stream event. */
export function completionEvent(
  text: string,
  options: { finish?: string | null; usage?: { prompt: number; completion: number } | null } = {},
): string {
  const usage = options.usage
    ? {
        prompt_tokens: options.usage.prompt,
        completion_tokens: options.usage.completion,
        total_tokens: options.usage.prompt + options.usage.completion,
      }
    : null;
  return JSON.stringify({
    id: "cmpl-test",
    object: "text_completion",
    created: 0,
    model: "test-model",
    choices: [{ index: 0, text, logprobs: null, finish_reason: options.finish ?? null, stop_reason: null }],
    usage,
  });
}

/**
 * A vLLM-style chat stream event (serving_chat.py): the first carries only the assistant's role
 * and empty content, the others a content delta; with continuous usage, each carries usage.
 */
export function chatEvent(
  delta: { role?: string; content: string },
  options: { finish?: string | null; usage?: { prompt: number; completion: number } } = {},
): string {
  const event: Record<string, unknown> = {
    id: "chatcmpl-test",
    object: "chat.completion.chunk",
    created: 0,
    model: "test-model",
    choices: [{ index: 0, delta, logprobs: null, finish_reason: options.finish ?? null }],
  };
  if (options.usage) {
    const { prompt, completion } = options.usage;
    event.usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  }
  return JSON.stringify(event);
}

export function usageEvent(prompt: number, completion: number): string {
  return JSON.stringify({
    id: "cmpl-test",
    object: "text_completion",
    created: 0,
    model: "test-model",
    choices: [],
    usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
  });
}

export const sse = (...events: string[]) => events.map((e) => `data: ${e}\n\n`).join("");

export function startStream(res: ServerResponse): void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  res.flushHeaders();
}

/**
 * Resolves at `t` ms after `origin` (performance.now() clock), never before: the scripted
 * server's sense of time. Timers count whole milliseconds from a cached loop time and can fire a
 * fraction early, so it waits again for the rest.
 */
export async function at(origin: number, t: number): Promise<void> {
  for (let wait = origin + t - performance.now(); wait > 0; wait = origin + t - performance.now()) {
    await new Promise((resolve) => setTimeout(resolve, Math.ceil(wait)));
  }
}

/** Writes and returns the write's time. */
export function writeNow(res: ServerResponse, text: string): number {
  res.write(text);
  return performance.now();
}
