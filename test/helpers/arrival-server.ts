import { Worker } from "node:worker_threads";
import { completionEvent, sse, usageEvent } from "./http-server.js";
import { hrtimeToEpoch } from "./timing-margin.js";

/**
 * A completions server that does as little as it can per request, for tests that judge when
 * requests arrive, not what they return. It records when each request was read (by its
 * x-request-id) and answers at once with a whole stream of `max_tokens` tokens.
 *
 * A server's timestamp is late by however long it took to wake up and read, so this one is kept
 * out of everyone's way:
 * - not node:http: at 1,000 req/s its parsing and response objects cost the test server several
 *   ms of loop lag at the 99th percentile (send lateness measured 8-14 ms p99; with this parser,
 *   a header scan and a Content-Length body, which is all undici sends, 4-8 ms);
 * - on a worker thread of its own (arrival-server-worker.mjs), so the test's own work (the
 *   coordinator, vitest, their garbage collections) does not delay its reads.
 */

export interface ArrivalServer {
  url: string;
  /**
   * Epoch ms when each request's last byte was read, by x-request-id; and the longest the
   * server's thread went without running its loop (ms), which bounds how late it read any.
   */
  arrivals(): Promise<{ arrivals: Map<string, number>; loopLagMaxMs: number }>;
  close(): Promise<void>;
}

/** The longest stream it serves (its answers are rendered once, here). */
const MAX_TOKENS = 256;

export async function startArrivalServer(): Promise<ArrivalServer> {
  const worker = new Worker(new URL("./arrival-server-worker.mjs", import.meta.url), {
    workerData: {
      models: JSON.stringify({ object: "list", data: [{ id: "test-model", object: "model" }] }),
      tokenEvent: sse(completionEvent("x")),
      lastTokenEvent: sse(completionEvent("x", { finish: "length" })),
      endEvents: Array.from({ length: MAX_TOKENS + 1 }, (_, tokens) => sse(usageEvent(8, tokens), "[DONE]")),
    },
  });
  const ask = <T>(message: string) =>
    new Promise<T>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
      worker.postMessage(message);
    });
  const { port } = await new Promise<{ port: number }>((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
  return {
    url: `http://127.0.0.1:${port}`,
    arrivals: async () => {
      const reply = await ask<{ arrivals: Array<[string, number]>; loopLagMaxMs: number }>("arrivals");
      const toEpoch = hrtimeToEpoch();
      return {
        arrivals: new Map(reply.arrivals.map(([id, hrMs]) => [id, toEpoch(hrMs)])),
        loopLagMaxMs: reply.loopLagMaxMs,
      };
    },
    close: async () => {
      const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
      worker.postMessage("close");
      await exited;
    },
  };
}
