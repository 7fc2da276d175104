import { afterEach, describe, expect, it } from "vitest";
import { CompletionClient, type RequestSpec, splitBaseUrl } from "../../../src/bench/client.js";
import type { RequestRecord } from "../../../src/bench/record.js";
import {
  at,
  completionEvent,
  type Handler,
  sse,
  startStream,
  startTestServer,
  type TestServer,
  usageEvent,
  writeNow,
} from "../../helpers/http-server.js";
import { lagMargin, watchLoopLag } from "../../helpers/timing-margin.js";

let server: TestServer | undefined;
let client: CompletionClient | undefined;

afterEach(async () => {
  await client?.close();
  await server?.close();
  client = undefined;
  server = undefined;
});

const spec = (index = 0): RequestSpec => ({
  index,
  warmup: false,
  body: '{"prompt":[1,2,3],"max_tokens":4}',
});

async function oneRequest(
  handler: Handler,
  options: Partial<ConstructorParameters<typeof CompletionClient>[0]> = {},
): Promise<RequestRecord> {
  server = await startTestServer(handler);
  client = new CompletionClient({ baseUrl: server.url, maxTokens: 4, ...options });
  return client.send(spec());
}

/** A well-behaved vLLM stream of `n` one-token events with continuous usage. */
function goodStream(n: number, gapMs: number): Handler {
  return async (_req, res) => {
    startStream(res);
    const origin = performance.now();
    for (let i = 1; i <= n; i++) {
      await at(origin, i * gapMs);
      res.write(
        sse(
          completionEvent(`t${i}`, {
            usage: { prompt: 3, completion: i },
            finish: i === n ? "length" : null,
          }),
        ),
      );
    }
    res.end(sse(usageEvent(3, n), "[DONE]"));
  };
}

describe("the streaming client", () => {
  it("records a good stream: chunks, tokens from usage, finish reason, status", async () => {
    const record = await oneRequest(goodStream(4, 10));
    expect(record.errorKind).toBeUndefined();
    expect(record).toMatchObject({
      status: 200,
      chunkCount: 4,
      promptTokens: 3,
      completionTokens: 4,
      finishReason: "length",
      doneReceived: true,
      chunkTokensExact: true,
    });
    expect([...record.chunkTokens.subarray(0, 4)]).toEqual([1, 1, 1, 1]);
    const times = [...record.chunkTimes.subarray(0, 4)];
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(times[0]).toBeGreaterThan(record.sentAt);
    expect(record.sentAt).toBeGreaterThanOrEqual(record.dispatchedAt);
    expect(record.endAt).toBeGreaterThanOrEqual(times[3]!);
  });

  it("sends the bearer token, a request id, and the body as given, to the /v1 path under the base URL", async () => {
    server = await startTestServer(goodStream(4, 1));
    client = new CompletionClient({ baseUrl: `${server.url}/v1/`, token: "sk-test-123456", maxTokens: 4 });
    await client.send({ ...spec(), requestId: "run-p1-conc4-0" });
    const req = server.requests[0]!;
    expect(req.url).toBe("/v1/completions");
    expect(req.headers.authorization).toBe("Bearer sk-test-123456");
    expect(req.headers["x-request-id"]).toBe("run-p1-conc4-0");
    expect(req.body).toBe(spec().body);
  });

  it("times each chunk when it arrives, matching the server's write times", async () => {
    const written: number[] = [];
    const lag = watchLoopLag();
    const record = await oneRequest(async (_req, res) => {
      startStream(res);
      const origin = performance.now();
      for (const t of [40, 55, 90, 95]) {
        await at(origin, t);
        written.push(
          writeNow(res, sse(completionEvent("x", { usage: { prompt: 3, completion: written.length + 1 } }))),
        );
      }
      res.end(sse("[DONE]"));
    });
    lag.stop();
    expect(record.chunkCount).toBe(4);
    for (let i = 0; i < 4; i++) {
      // Same process, same clock: the only gap is loopback delivery and the event-loop turn that
      // reads it, late by no more than this process's loop lagged.
      expect(record.chunkTimes[i]! - written[i]!).toBeGreaterThanOrEqual(0);
      expect(record.chunkTimes[i]! - written[i]!).toBeLessThanOrEqual(lagMargin(lag.maxMs()));
    }
  });

  it("counts the events of one write as one chunk, with their tokens (a stream batcher)", async () => {
    const record = await oneRequest(async (_req, res) => {
      startStream(res);
      const e = (n: number) => completionEvent("w", { usage: { prompt: 3, completion: n } });
      res.write(sse(e(1), e(2), e(3)));
      await at(performance.now(), 20);
      res.end(sse(e(4), usageEvent(3, 4), "[DONE]"));
    });
    expect(record.chunkCount).toBe(2);
    expect([...record.chunkTokens.subarray(0, 2)]).toEqual([3, 1]);
  });

  it("does not count a role-only or empty first event as a token, and carries usage-only tokens", async () => {
    const record = await oneRequest(async (_req, res) => {
      startStream(res);
      const origin = performance.now();
      res.write(sse(completionEvent("")));
      await at(origin, 30);
      // A token whose text the server held back (half a character), then the text of two tokens.
      res.write(sse(completionEvent("", { usage: { prompt: 3, completion: 1 } })));
      await at(origin, 60);
      res.end(
        sse(
          completionEvent("é", { usage: { prompt: 3, completion: 2 } }),
          completionEvent("ab", { usage: { prompt: 3, completion: 4 } }),
          "[DONE]",
        ),
      );
    });
    expect(record.errorKind).toBeUndefined();
    expect(record.chunkCount).toBe(1);
    expect(record.chunkTokens[0]).toBe(4);
    expect(record.chunkTimes[0]! - record.sentAt).toBeGreaterThanOrEqual(55);
  });

  it("without per-event usage, spreads the final usage over the chunks by text and says so", async () => {
    const record = await oneRequest(
      async (_req, res) => {
        startStream(res);
        const origin = performance.now();
        res.write(sse(completionEvent("a")));
        await at(origin, 10);
        res.write(sse(completionEvent("bbbbbb")));
        await at(origin, 20);
        res.end(sse(completionEvent("c"), usageEvent(3, 8), "[DONE]"));
      },
      { maxTokens: 8 },
    );
    expect(record.errorKind).toBeUndefined();
    expect(record.chunkTokensExact).toBe(false);
    expect(record.completionTokens).toBe(8);
    expect([...record.chunkTokens.subarray(0, 3)]).toEqual([1, 6, 1]);
  });

  it("falls back to one token per event when the server sends no usage at all", async () => {
    const record = await oneRequest(async (_req, res) => {
      startStream(res);
      res.end(
        sse(completionEvent("a"), completionEvent("b"), completionEvent("c"), completionEvent("d"), "[DONE]"),
      );
    });
    expect(record.errorKind).toBeUndefined();
    expect(record.completionTokens).toBeUndefined();
    expect(record.chunkTokensExact).toBe(false);
    expect(record.chunkTokens[0]).toBe(4);
  });

  it("uses a pool as large as the concurrency", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    server = await startTestServer(async (_req, res) => {
      startStream(res);
      await gate;
      res.end(sse(completionEvent("a", { usage: { prompt: 3, completion: 4 } }), "[DONE]"));
    });
    client = new CompletionClient({ baseUrl: server.url, connections: 150, maxTokens: 4 });
    const all = Array.from({ length: 150 }, (_, i) => client!.send(spec(i)));
    while (server.requests.length < 150) await new Promise((r) => setTimeout(r, 5));
    expect(server.maxConnections()).toBe(150);
    release();
    const records = await Promise.all(all);
    expect(records.every((r) => r.errorKind === undefined)).toBe(true);
  });

  it("splits base URLs into origin and path prefix", () => {
    expect(splitBaseUrl("http://h:8000")).toEqual({ origin: "http://h:8000", prefix: "" });
    expect(splitBaseUrl("https://h/serve/v1/")).toEqual({ origin: "https://h", prefix: "/serve" });
    expect(() => splitBaseUrl("ftp://h")).toThrow(/http/);
  });
});

describe("every error kind", () => {
  it("connect: nothing listens on the port", async () => {
    const closed = await startTestServer(() => {});
    await closed.close();
    client = new CompletionClient({ baseUrl: closed.url, maxTokens: 4 });
    const record = await client.send(spec());
    expect(record).toMatchObject({ errorKind: "connect", status: 0 });
    expect(record.errorDetail).toMatch(/ECONNREFUSED/);
  });

  it("connect: the server closes the connection without answering", async () => {
    const record = await oneRequest((_req, res) => {
      res.socket?.destroy();
    });
    expect(record.errorKind).toBe("connect");
  });

  it.each([
    [400, "http_4xx"],
    [404, "http_4xx"],
    [429, "http_429"],
    [500, "http_5xx"],
    [503, "http_5xx"],
  ])("HTTP %i → %s, with the server's message", async (status, kind) => {
    const record = await oneRequest((_req, res) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify({ object: "error", message: `nope ${status}`, type: "X", code: status }));
    });
    expect(record).toMatchObject({ errorKind: kind, status });
    expect(record.errorDetail).toBe(`HTTP ${status}: nope ${status}`);
  });

  it("timeout_before_first_token: headers, then silence", async () => {
    const lag = watchLoopLag();
    const record = await oneRequest((_req, res) => startStream(res), { timeouts: { firstTokenMs: 150 } });
    lag.stop();
    expect(record.errorKind).toBe("timeout_before_first_token");
    // The deadline runs from when the request was handed to the client. A timer counts from the
    // time the event loop cached at the start of its turn, so it can fire early by as long as
    // that turn had already run, which is loop lag (a firing at 15 ms, or 150 µs, still fails).
    expect(record.endAt - record.dispatchedAt).toBeGreaterThanOrEqual(150 - lagMargin(lag.maxMs()));
  });

  it("timeout_before_first_token: not even headers", async () => {
    const record = await oneRequest(() => {}, { timeouts: { firstTokenMs: 150 } });
    expect(record.errorKind).toBe("timeout_before_first_token");
  });

  it("stream_broken: the connection drops mid-stream", async () => {
    const record = await oneRequest(async (_req, res) => {
      startStream(res);
      res.write(sse(completionEvent("a", { usage: { prompt: 3, completion: 1 } })));
      await at(performance.now(), 20);
      res.socket?.destroy();
    });
    expect(record).toMatchObject({ errorKind: "stream_broken", chunkCount: 1 });
  });

  it("stream_broken: the response ends cleanly but without [DONE]", async () => {
    const record = await oneRequest((_req, res) => {
      startStream(res);
      res.end(sse(completionEvent("a", { usage: { prompt: 3, completion: 4 } })));
    });
    expect(record.errorKind).toBe("stream_broken");
    expect(record.errorDetail).toMatch(/\[DONE\]/);
  });

  it("stream_broken: tokens stop coming for longer than the request timeout", async () => {
    const record = await oneRequest(
      (_req, res) => {
        startStream(res);
        res.write(sse(completionEvent("a", { usage: { prompt: 3, completion: 1 } })));
      },
      { timeouts: { requestMs: 150 } },
    );
    expect(record.errorKind).toBe("stream_broken");
  });

  it("truncated: fewer tokens than max_tokens although ignore_eos", async () => {
    const record = await oneRequest((_req, res) => {
      startStream(res);
      res.end(sse(completionEvent("a", { usage: { prompt: 3, completion: 1 }, finish: "stop" }), "[DONE]"));
    });
    expect(record.errorKind).toBe("truncated");
    expect(record.errorDetail).toBe("1 of 4 tokens (finish_reason stop) although ignore_eos was set");
  });

  it("bad_response: an error event in the stream", async () => {
    const record = await oneRequest((_req, res) => {
      startStream(res);
      res.end(
        sse(completionEvent("a"), JSON.stringify({ error: { message: "engine dead", code: 500 } }), "[DONE]"),
      );
    });
    expect(record).toMatchObject({ errorKind: "bad_response", errorDetail: "engine dead" });
  });

  it("bad_response: an event that is not JSON", async () => {
    const record = await oneRequest((_req, res) => {
      startStream(res);
      res.end(sse("garbage", "[DONE]"));
    });
    expect(record.errorKind).toBe("bad_response");
  });

  it("bad_response: a JSON answer where a stream was asked for", async () => {
    const record = await oneRequest((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ choices: [{ text: "all at once" }] }));
    });
    expect(record.errorKind).toBe("bad_response");
    expect(record.errorDetail).toMatch(/instead of a stream/);
  });

  it("cancelled: the client stops a request in flight, which is kept, not dropped", async () => {
    server = await startTestServer((_req, res) => startStream(res));
    client = new CompletionClient({ baseUrl: server.url, maxTokens: 4 });
    const pending = client.send(spec());
    while (server.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    expect(client.inFlight).toBe(1);
    client.cancelAll();
    const record = await pending;
    expect(record.errorKind).toBe("cancelled");
    expect(client.inFlight).toBe(0);
  });

  it("never puts the token into an error detail", async () => {
    const token = "sk-secret-abcdef123456";
    const record = await oneRequest(
      (req, res) => {
        res.writeHead(401, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: `bad header ${req.headers.authorization}` } }));
      },
      { token },
    );
    expect(record.errorKind).toBe("http_4xx");
    expect(record.errorDetail).not.toContain(token);
  });
});
