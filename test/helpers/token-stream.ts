import type { ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import {
  at,
  chatEvent,
  completionEvent,
  type Handler,
  type ReceivedRequest,
  sse,
  startStream,
  usageEvent,
} from "./http-server.js";

/**
 * A server that streams every request on a fixed schedule: the first chunk `firstMs` after the
 * request arrived, then one chunk every `gapMs`, each carrying `tokensPerChunk` tokens (with
 * continuous usage), until max_tokens. It records when it wrote each chunk, per x-request-id.
 *
 * It serves /v1/completions and /v1/chat/completions alike. A chat stream starts, as vLLM's
 * does, with a role-only event (no token) written on arrival, and its prompt counts one token per
 * word of the messages plus CHAT_TEMPLATE_TOKENS, a fixed template as real chat templates are.
 */
export const CHAT_TEMPLATE_TOKENS = 7;
export interface ScheduleOptions {
  firstMs: number;
  gapMs: number;
  tokensPerChunk?: number;
  /** Require this bearer token (401 otherwise). */
  token?: string;
}

export interface Written {
  arrivedAt: number;
  chunks: number[];
  arrivedEpochMs: number;
  url: string;
}

export function scheduledStream(options: ScheduleOptions): {
  handler: Handler;
  written: Map<string, Written>;
} {
  const written = new Map<string, Written>();
  const perChunk = options.tokensPerChunk ?? 1;
  const handler = async (req: ReceivedRequest, res: ServerResponse) => {
    if (options.token && req.headers.authorization !== `Bearer ${options.token}`) {
      res.writeHead(401, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: "missing or wrong bearer token" } }));
      return;
    }
    const body = JSON.parse(req.body) as {
      max_tokens: number;
      prompt?: unknown;
      messages?: Array<{ content: string }>;
    };
    const chat = req.url === "/v1/chat/completions";
    const prompt = chat
      ? (body.messages ?? []).reduce((n, m) => n + m.content.split(" ").length, CHAT_TEMPLATE_TOKENS)
      : Array.isArray(body.prompt)
        ? body.prompt.length
        : 0;
    const record: Written = {
      arrivedAt: req.arrivedAt,
      chunks: [],
      arrivedEpochMs: performance.timeOrigin + req.arrivedAt,
      url: req.url,
    };
    written.set(String(req.headers["x-request-id"] ?? written.size), record);
    startStream(res);
    if (chat)
      res.write(sse(chatEvent({ role: "assistant", content: "" }, { usage: { prompt, completion: 0 } })));
    let tokens = 0;
    for (let i = 0; tokens < body.max_tokens; i++) {
      await at(req.arrivedAt, options.firstMs + i * options.gapMs);
      if (res.destroyed) return;
      tokens = Math.min(body.max_tokens, tokens + perChunk);
      const usage = { prompt, completion: tokens };
      const text = "x".repeat(perChunk);
      res.write(sse(chat ? chatEvent({ content: text }, { usage }) : completionEvent(text, { usage })));
      record.chunks.push(performance.now());
    }
    res.end(sse(usageEvent(prompt, tokens), "[DONE]"));
  };
  return { handler, written };
}
