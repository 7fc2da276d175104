import { connect } from "node:net";
import { Client } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SimConfigInput } from "../../../src/sim/config.js";
import { type RunningSimulator, startSimulator } from "../../../src/sim/simulator.js";
import { call, FAST_SIM, stream, streamedText, tokenEvents } from "../../helpers/sim-client.js";
import { lagMargin, watchLoopLag } from "../../helpers/timing-margin.js";

const TOKEN = "sim-test-token-123";
const FAST: SimConfigInput = { ...FAST_SIM, model: "test-model", token: TOKEN };

const running: RunningSimulator[] = [];
async function sim(overrides: SimConfigInput = {}): Promise<RunningSimulator> {
  const started = await startSimulator({
    ...FAST,
    ...overrides,
    engine: { ...FAST.engine, ...overrides.engine },
    ingress: { ...FAST.ingress, ...overrides.ingress },
  });
  running.push(started);
  return started;
}
afterAll(async () => {
  await Promise.all(running.map((s) => s.close()));
});

const ids = (n: number, offset = 0) => Array.from({ length: n }, (_, i) => (i * 31 + offset) % 50_000);

describe("OpenAI API", () => {
  let server: RunningSimulator;
  beforeAll(async () => {
    server = await sim({ replicas: 2 });
  });

  it("lists the served model", async () => {
    const answer = await call(server.url, "/v1/models", { token: TOKEN });
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({
      object: "list",
      data: [{ id: "test-model", object: "model", owned_by: "vllm", max_model_len: 32768 }],
    });
  });

  it("completes a token-id prompt with usage, without streaming", async () => {
    const answer = await call(server.url, "/v1/completions", {
      token: TOKEN,
      body: { model: "test-model", prompt: ids(50), max_tokens: 12, ignore_eos: true },
    });
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({
      id: expect.stringMatching(/^cmpl-[0-9a-f]{32}$/),
      object: "text_completion",
      model: "test-model",
      created: expect.any(Number),
      choices: [{ index: 0, text: expect.any(String), finish_reason: "length", logprobs: null }],
      usage: { prompt_tokens: 50, completion_tokens: 12, total_tokens: 62 },
    });
    expect(answer.json.choices[0].text.trim().split(" ")).toHaveLength(12);
  });

  it("streams one event per token, the finish reason on the last, usage before [DONE]", async () => {
    const answer = await stream(
      server.url,
      "/v1/completions",
      {
        prompt: ids(20),
        max_tokens: 9,
        ignore_eos: true,
        stream: true,
        stream_options: { include_usage: true },
      },
      { token: TOKEN },
    );
    expect(answer.status).toBe(200);
    expect(answer.done).toBe(true);
    const tokens = tokenEvents(answer.events);
    expect(tokens).toHaveLength(9);
    expect(tokens.slice(0, -1).every((e) => e.json.choices[0].finish_reason === null)).toBe(true);
    expect(tokens.at(-1)!.json.choices[0].finish_reason).toBe("length");
    const usage = answer.events.at(-1)!.json;
    expect(usage).toMatchObject({
      object: "text_completion",
      choices: [],
      usage: { prompt_tokens: 20, completion_tokens: 9, total_tokens: 29 },
    });
    expect(answer.text.endsWith("data: [DONE]\n\n")).toBe(true);
  });

  it("sends no usage event unless asked", async () => {
    const answer = await stream(
      server.url,
      "/v1/completions",
      { prompt: ids(20), max_tokens: 3, ignore_eos: true, stream: true },
      { token: TOKEN },
    );
    expect(answer.events.every((e) => e.json.usage === undefined)).toBe(true);
    expect(answer.events).toHaveLength(3);
  });

  it("gives the same text streamed and not streamed (same prompt, same seed)", async () => {
    const body = { prompt: ids(30, 7), max_tokens: 15, ignore_eos: true };
    const whole = await call(server.url, "/v1/completions", { token: TOKEN, body });
    const streamed = await stream(server.url, "/v1/completions", { ...body, stream: true }, { token: TOKEN });
    expect(streamedText(streamed.events)).toBe(whole.json.choices[0].text);
  });

  it("counts a text prompt by the whitespace / 4-character rule", async () => {
    const answer = await call(server.url, "/v1/completions", {
      token: TOKEN,
      body: { prompt: "Hello world, tokenization", max_tokens: 1 }, // 2 + 2 + 3 pieces
    });
    expect(answer.json.usage.prompt_tokens).toBe(7);
  });

  it("answers chat completions, streamed with a role-only first event", async () => {
    const messages = [{ role: "user", content: "Say something" }];
    const answer = await stream(
      server.url,
      "/v1/chat/completions",
      { model: "test-model", messages, max_tokens: 4, stream: true, ignore_eos: true },
      { token: TOKEN },
    );
    expect(answer.status).toBe(200);
    expect(answer.events[0]!.json).toMatchObject({
      id: expect.stringMatching(/^chatcmpl-/),
      object: "chat.completion.chunk",
      choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }],
    });
    const tokens = tokenEvents(answer.events);
    expect(tokens).toHaveLength(4);
    expect(tokens.at(-1)!.json.choices[0]).toMatchObject({ finish_reason: "length" });

    const whole = await call(server.url, "/v1/chat/completions", {
      token: TOKEN,
      body: { messages, max_completion_tokens: 4, ignore_eos: true },
    });
    expect(whole.json).toMatchObject({
      object: "chat.completion",
      choices: [
        { message: { role: "assistant", content: streamedText(answer.events) }, finish_reason: "length" },
      ],
      // 3 template tokens + 4 content pieces ("Say", "some", "thin", "g") + 3 priming tokens
      usage: { prompt_tokens: 10, completion_tokens: 4 },
    });
  });

  it("stops early at a deterministic pseudo-EOS unless ignore_eos is set", async () => {
    const eosServer = await sim({ natural_stop_mean_tokens: 5 });
    const lengths = await Promise.all(
      [0, 1, 2, 3, 4, 5].map(async (offset) => {
        const body = { prompt: ids(10, offset), max_tokens: 200 };
        const first = await call(eosServer.url, "/v1/completions", { token: TOKEN, body });
        const again = await call(eosServer.url, "/v1/completions", { token: TOKEN, body });
        expect(again.json.usage.completion_tokens).toBe(first.json.usage.completion_tokens);
        expect(first.json.choices[0].finish_reason).toBe("stop");
        return first.json.usage.completion_tokens as number;
      }),
    );
    expect(Math.max(...lengths)).toBeLessThan(200);
    const forced = await call(eosServer.url, "/v1/completions", {
      token: TOKEN,
      body: { prompt: ids(10), max_tokens: 200, ignore_eos: true },
    });
    expect(forced.json.usage.completion_tokens).toBe(200);
  });

  it("defaults max_tokens to 16 for completions, as vLLM does", async () => {
    const answer = await call(server.url, "/v1/completions", {
      token: TOKEN,
      body: { prompt: ids(5), ignore_eos: true },
    });
    expect(answer.json.usage.completion_tokens).toBe(16);
  });
});

describe("HTTP/1.1 framing of streams", () => {
  const body = { prompt: ids(8), max_tokens: 20, ignore_eos: true, stream: true };
  const readStream = async (client: Client) => {
    const response = await client.request({
      path: "/v1/completions",
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(response.headers["transfer-encoding"]).toBe("chunked");
    return response.body.text();
  };

  it("keeps a connection usable after each stream (keep-alive), streamed or not", async () => {
    const server = await sim();
    const client = new Client(server.url, { pipelining: 1 });
    try {
      const texts = [await readStream(client), await readStream(client), await readStream(client)];
      for (const text of texts) {
        expect(text.match(/^data: \{/gm)).toHaveLength(20);
        expect(text.endsWith("data: [DONE]\n\n")).toBe(true);
      }
      const plain = await client.request({
        path: "/v1/models",
        method: "GET",
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(plain.statusCode).toBe(200);
      await plain.body.text();
    } finally {
      await client.close();
    }
  });

  it("answers pipelined streams on one connection in order", async () => {
    const server = await sim();
    const { port } = new URL(server.url);
    const payload = JSON.stringify(body);
    const request =
      `POST /v1/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${TOKEN}\r\n` +
      `content-type: application/json\r\ncontent-length: ${payload.length}\r\n\r\n${payload}`;
    // Two requests in one write: the second response must wait for the first and stay well framed.
    const raw = await new Promise<string>((resolve, reject) => {
      let text = "";
      const socket = connect(Number(port), "127.0.0.1", () => socket.write(request + request));
      socket.on("data", (data) => {
        text += data.toString();
        if (text.split("\r\n0\r\n\r\n").length === 3) {
          socket.end();
          resolve(text);
        }
      });
      socket.on("error", reject);
    });
    const responses = raw.split("HTTP/1.1 200 OK").slice(1);
    expect(responses).toHaveLength(2);
    for (const response of responses) {
      expect(response.match(/data: \{/g)).toHaveLength(20);
      expect(response).toContain("data: [DONE]");
      expect(response.endsWith("\r\n0\r\n\r\n")).toBe(true);
    }
  });
});

describe("error answers", () => {
  let server: RunningSimulator;
  beforeAll(async () => {
    server = await sim({ engine: { max_model_len: 1000, kv_cache_tokens: 4000 } });
  });

  const bad = (body: unknown) => call(server.url, "/v1/completions", { token: TOKEN, body });

  it.each([
    ["a body that is not JSON", undefined, "{not json", /JSON decode error/],
    ["a missing prompt", { max_tokens: 5 }, undefined, /prompt/],
    ["a prompt of the wrong type", { prompt: 42 }, undefined, /prompt/],
    ["max_tokens of the wrong type", { prompt: "hi", max_tokens: "many" }, undefined, /max_tokens/],
    ["max_tokens 0", { prompt: "hi", max_tokens: 0 }, undefined, /max_tokens must be at least 1/],
    ["n > 1", { prompt: "hi", n: 2 }, undefined, /n = 1/],
    ["a batch of prompts", { prompt: ["a", "b"] }, undefined, /batched prompts/],
    ["an empty prompt", { prompt: [] }, undefined, /must not be empty/],
    ["negative token ids", { prompt: [1, -2] }, undefined, /non-negative/],
    [
      "a request longer than max_model_len",
      { prompt: ids(900), max_tokens: 200 },
      undefined,
      /maximum context length is 1000 tokens.*1100 tokens \(900 in the messages, 200 in the completion\)/,
    ],
  ])("400 for %s, with an OpenAI error object", async (_what, body, rawBody, message) => {
    const answer = rawBody
      ? await call(server.url, "/v1/completions", { token: TOKEN, rawBody })
      : await bad(body);
    expect(answer.status).toBe(400);
    expect(answer.headers["content-type"]).toBe("application/json");
    expect(Object.keys(answer.json)).toEqual(["error"]);
    expect(answer.json.error).toMatchObject({
      message: expect.stringMatching(message),
      type: "BadRequestError",
      code: 400,
    });
    expect(answer.json.error).toHaveProperty("param");
  });

  it("400 for a chat request without messages", async () => {
    const answer = await call(server.url, "/v1/chat/completions", { token: TOKEN, body: { messages: [] } });
    expect(answer.status).toBe(400);
    expect(answer.json.error.message).toMatch(/messages/);
  });

  it("404 for an unknown model, with vLLM's message", async () => {
    const answer = await bad({ model: "gpt-4", prompt: "hi" });
    expect(answer.status).toBe(404);
    expect(answer.json.error).toMatchObject({
      message: "The model `gpt-4` does not exist.",
      type: "NotFoundError",
      code: 404,
    });
  });

  it("404 for an unknown path and 405 for a wrong method", async () => {
    const unknown = await call(server.url, "/v1/embeddings", { token: TOKEN, body: {} });
    expect(unknown.status).toBe(404);
    const wrongMethod = await call(server.url, "/v1/completions", { token: TOKEN });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toBe("POST");
  });

  it("answers every error on the record (ground truth counts them too)", async () => {
    const stats = await call(server.url, "/sim/stats", { token: TOKEN });
    expect(stats.json.total.error).toBeGreaterThanOrEqual(1);
    expect(stats.json.requests.every((r: { status: string }) => r.status === "error")).toBe(true);
  });

  it("503 with Ray Serve's back-pressure message when the ingress queue is full", async () => {
    const tight = await sim({
      replicas: 1,
      ingress_replicas: 1,
      engine: { max_ongoing_requests: 1, max_queued_requests: 1, decode_base_ms: 5 },
    });
    const long = { prompt: ids(5), max_tokens: 100, ignore_eos: true };
    const first = call(tight.url, "/v1/completions", { token: TOKEN, body: long });
    await until(() => tight.stats().replicas[0]!.ongoing === 1);
    const second = call(tight.url, "/v1/completions", { token: TOKEN, body: long });
    await until(() => tight.stats().ingress[0]!.queued === 1);
    const third = await call(tight.url, "/v1/completions", { token: TOKEN, body: long });
    expect(third.status).toBe(503);
    expect(third.json.error).toMatchObject({
      type: "ServiceUnavailableError",
      message: expect.stringMatching(/backpressure/),
    });
    expect((await first).status).toBe(200);
    expect((await second).status).toBe(200);
    const stats = tight.stats();
    expect(stats.total.rejected).toBe(1);
  });
});

describe("auth", () => {
  let server: RunningSimulator;
  beforeAll(async () => {
    server = await sim();
  });

  it.each([
    ["no Authorization header", undefined],
    ["a wrong token", "not-the-token"],
    ["a token that only starts right", `${TOKEN}x`],
  ])("401 with %s", async (_what, token) => {
    for (const path of ["/v1/models", "/sim/stats"]) {
      const answer = await call(server.url, path, { token });
      expect(answer.status).toBe(401);
      expect(answer.json.error).toMatchObject({ type: "AuthenticationError", code: 401 });
    }
    const post = await call(server.url, "/v1/completions", { token, body: { prompt: "hi" } });
    expect(post.status).toBe(401);
  });

  it("lets health checks through without a token", async () => {
    const health = await call(server.url, "/-/healthz");
    expect(health.status).toBe(200);
    expect(health.text).toBe("success");
    expect((await call(server.url, "/health")).status).toBe(200);
  });

  it("serves everyone when no token is configured", async () => {
    const open = await sim({ token: undefined });
    expect((await call(open.url, "/v1/models")).status).toBe(200);
  });
});

describe("client disconnect", () => {
  it("frees the slot of a stream the client abandons", async () => {
    const server = await sim({ engine: { max_num_seqs: 1, decode_base_ms: 5 } });
    const abandoned = await stream(
      server.url,
      "/v1/completions",
      { prompt: ids(5), max_tokens: 5000, ignore_eos: true, stream: true },
      { token: TOKEN, stopAfterEvents: 2 },
    );
    expect(abandoned.done).toBe(false);
    // With the only slot still taken, this would wait 25 s; freed, it takes a few steps.
    const started = performance.now();
    const next = await call(server.url, "/v1/completions", {
      token: TOKEN,
      body: { prompt: ids(5), max_tokens: 3, ignore_eos: true },
    });
    expect(next.status).toBe(200);
    // Half the 25 s it would wait behind the abandoned stream: no loaded machine is that slow.
    expect(performance.now() - started).toBeLessThan(12_500);
    const stats = server.stats();
    expect(stats.total).toMatchObject({ cancelled: 1, ok: 1, running: 0, waiting: 0, in_flight: 0 });
    expect(stats.replicas[0]).toMatchObject({ cancelled: 1, kv_tokens_in_use: 0 });
    const cancelled = stats.requests.find((r) => r.status === "cancelled")!;
    expect(cancelled.completion_tokens).toBeGreaterThanOrEqual(2);
    expect(cancelled.completion_tokens).toBeLessThan(5000);
  });

  it("drops a request that is still waiting for a slot", async () => {
    const server = await sim({ engine: { max_num_seqs: 1, decode_base_ms: 5 } });
    const blocker = stream(
      server.url,
      "/v1/completions",
      { prompt: ids(5), max_tokens: 200, ignore_eos: true, stream: true },
      { token: TOKEN },
    );
    await until(() => server.stats().total.running === 1);
    const controller = new AbortController();
    const waiting = fetch(`${server.url}/v1/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ prompt: ids(5), max_tokens: 5, ignore_eos: true }),
      signal: controller.signal,
    }).catch(() => undefined);
    await until(() => server.stats().total.waiting === 1);
    controller.abort();
    await waiting;
    await until(() => server.stats().total.waiting === 0);
    expect(server.stats().total.running).toBe(1); // the blocker still runs
    expect((await blocker).done).toBe(true);
    expect(server.stats().replicas[0]).toMatchObject({ admitted: 1, cancelled: 1 });
  });
});

describe("ground truth", () => {
  it("records every request's server-side times and tokens, pageable with since", async () => {
    const server = await sim({ replicas: 2 });
    for (let i = 0; i < 5; i++) {
      await stream(
        server.url,
        "/v1/completions",
        { prompt: ids(10 + i), max_tokens: 4 + i, ignore_eos: true, stream: true },
        { token: TOKEN },
      );
    }
    const all = await call(server.url, "/sim/stats", { token: TOKEN });
    expect(all.json.requests).toHaveLength(5);
    all.json.requests.forEach((r: Record<string, number>, i: number) => {
      expect(r).toMatchObject({
        index: i + 1,
        seq: i + 1,
        status: "ok",
        completion_tokens: 4 + i,
        prompt_tokens: 10 + i,
      });
      expect(r.arrival_ms!).toBeLessThanOrEqual(r.routed_ms!);
      expect(r.routed_ms!).toBeLessThanOrEqual(r.first_token_ms!);
      expect(r.first_token_ms!).toBeLessThanOrEqual(r.finish_ms!);
      expect(Math.abs(r.arrival_ms! - Date.now())).toBeLessThan(60_000);
    });
    expect(all.json.total).toMatchObject({ requests: 5, ok: 5, tokens_generated: 30, tokens_delivered: 30 });
    expect(
      all.json.replicas.map((r: { requests: number }) => r.requests).reduce((a: number, b: number) => a + b),
    ).toBe(5);
    expect(all.json.replicas[0].busy_ms).toBeGreaterThan(0);
    const page = await call(server.url, "/sim/stats?since=2&limit=2", { token: TOKEN });
    expect(page.json.requests.map((r: { index: number }) => r.index)).toEqual([3, 4]);
    expect(page.json.next_since).toBe(4);
    const rest = await call(server.url, `/sim/stats?since=${page.json.next_since}`, { token: TOKEN });
    expect(rest.json.requests.map((r: { index: number }) => r.index)).toEqual([5]);
  });

  it("keeps a bounded ring of records and says how many were dropped", async () => {
    const server = await sim({ stats_capacity: 3 });
    for (let i = 0; i < 5; i++) {
      await call(server.url, "/v1/completions", { token: TOKEN, body: { prompt: ids(4), max_tokens: 1 } });
    }
    const stats = server.stats();
    expect(stats.requests.map((r) => r.index)).toEqual([3, 4, 5]);
    expect(stats.dropped).toBe(2);
    expect(stats.total.requests).toBe(5);
  });

  it("shows stream batching as several token events per network write", async () => {
    const server = await sim({ engine: { stream_batching_interval_ms: 20, decode_base_ms: 4 } });
    const answer = await stream(
      server.url,
      "/v1/completions",
      { prompt: ids(5), max_tokens: 41, ignore_eos: true, stream: true },
      { token: TOKEN },
    );
    expect(tokenEvents(answer.events)).toHaveLength(41);
    const record = server.stats().requests[0]!;
    // One token first, then a chunk every 5 steps of 4.01 ms (≥ 20 ms): 1 + 40 / 5 chunks.
    expect(record.chunks).toBe(9);
    expect(new Set(answer.events.map((e) => e.read)).size).toBeLessThanOrEqual(10);
  });
});

describe("prefix caching", () => {
  it("makes a repeated long prompt's first token measurably faster, and reports cached tokens", async () => {
    const prefill = { prefill_ms_per_token: 0.05, decode_base_ms: 2 };
    const server = await sim({ engine: { ...prefill, enable_prefix_caching: true } });
    const prompt = ids(4000, 3);
    const ttft = async () => {
      const answer = await call(server.url, "/v1/completions", {
        token: TOKEN,
        body: { prompt, max_tokens: 2, ignore_eos: true },
      });
      const record = server.stats().requests.at(-1)!;
      return { usage: answer.json.usage, ttft: record.first_token_ms! - record.arrival_ms! };
    };
    const lag = watchLoopLag();
    const cold = await ttft();
    const warm = await ttft();
    lag.stop();
    expect(cold.usage.prompt_tokens_details).toEqual({ cached_tokens: 0 });
    expect(warm.usage.prompt_tokens_details).toEqual({ cached_tokens: 3984 });
    // Cold: 2 ms + 4000 × 0.05 ms = 202 ms of prefill; warm: 2 ms + 16 × 0.05 ms, written late by
    // no more than the simulator's loop (this process) lagged.
    expect(cold.ttft).toBeGreaterThan(190);
    expect(warm.ttft).toBeLessThanOrEqual(2 + 16 * 0.05 + lagMargin(lag.maxMs()));
    expect(server.stats().total.cached_prompt_tokens).toBe(3984);
  });
});

/** Polls a condition on the simulator's ground truth (no fixed sleeps). */
async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
