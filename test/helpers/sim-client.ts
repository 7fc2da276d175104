/**
 * A deliberately small HTTP client for the simulator's tests (the real load generator lives in
 * src/bench and is tested on its own): JSON calls, and SSE streams read with the arrival time of
 * every event.
 */
import { request } from "undici";
import type { SimConfigInput } from "../../src/sim/config.js";

/** A fast engine and ingress, so every request in a simulator test takes milliseconds. */
export const FAST_SIM: SimConfigInput = {
  engine: {
    decode_base_ms: 2,
    decode_per_seq_ms: 0.01,
    prefill_ms_per_token: 0.001,
    stream_batching_interval_ms: 0,
  },
  ingress: { request_overhead_ms: 0.2, chunk_cost_ms: 0.01 },
};

export interface JsonAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

export async function call(
  url: string,
  path: string,
  options: { method?: "GET" | "POST" | "PUT"; body?: unknown; token?: string; rawBody?: string } = {},
): Promise<JsonAnswer> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const response = await request(`${url}${path}`, {
    method: options.method ?? (body === undefined ? "GET" : "POST"),
    headers,
    body,
  });
  const text = await response.body.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.statusCode, headers: response.headers, text, json };
}

export interface SseEvent {
  /** The text after `data: `. */
  data: string;
  json: any;
  /** performance.now() when the network read carrying it arrived. */
  at: number;
  /** Index of the network read that carried it (events of one batch share it). */
  read: number;
}

export interface StreamAnswer {
  status: number;
  events: SseEvent[];
  /** The stream ended with `data: [DONE]`. */
  done: boolean;
  /** The connection failed before the body ended (e.g. destroyed by the server). */
  broken: boolean;
  sentAt: number;
  text: string;
}

/**
 * POSTs a streaming request and collects its events. `stopAfterEvents` aborts the request (a
 * client that goes away) once that many token events arrived.
 */
export async function stream(
  url: string,
  path: string,
  body: unknown,
  options: { token?: string; stopAfterEvents?: number } = {},
): Promise<StreamAnswer> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const controller = new AbortController();
  const sentAt = performance.now();
  const response = await request(`${url}${path}`, {
    method: "POST",
    headers,
    body: JSON.stringify(body),
    signal: controller.signal,
  });
  const events: SseEvent[] = [];
  let buffer = "";
  let text = "";
  let done = false;
  let broken = false;
  let reads = 0;
  try {
    for await (const part of response.body) {
      const at = performance.now();
      const chunk = (part as Buffer).toString("utf8");
      text += chunk;
      buffer += chunk;
      let boundary = buffer.indexOf("\n\n");
      while (boundary >= 0) {
        const block = buffer.slice(0, boundary);
        buffer = buffer.slice(boundary + 2);
        boundary = buffer.indexOf("\n\n");
        if (!block.startsWith("data: ")) continue;
        const data = block.slice(6);
        if (data === "[DONE]") {
          done = true;
          continue;
        }
        events.push({ data, json: JSON.parse(data), at, read: reads });
      }
      reads += 1;
      if (options.stopAfterEvents !== undefined && events.length >= options.stopAfterEvents) {
        controller.abort();
        break;
      }
    }
  } catch (error) {
    if (!controller.signal.aborted) broken = true;
    void error;
  }
  return { status: response.statusCode, events, done, broken, sentAt, text };
}

/** Token-bearing events (role-only and usage-only events excluded). */
export function tokenEvents(events: readonly SseEvent[]): SseEvent[] {
  return events.filter((event) => {
    const choice = event.json.choices?.[0];
    if (!choice) return false;
    return choice.text !== undefined ? choice.text !== "" : Boolean(choice.delta?.content);
  });
}

export function streamedText(events: readonly SseEvent[]): string {
  return tokenEvents(events)
    .map((event) => event.json.choices[0].text ?? event.json.choices[0].delta.content)
    .join("");
}
