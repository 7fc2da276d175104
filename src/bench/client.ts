import { performance } from "node:perf_hooks";
import { type Dispatcher, Pool } from "undici";
import { redact } from "../secrets.js";
import { scanEvent } from "./event-scan.js";
import type { ErrorKind, RequestRecord } from "./record.js";
import { SseParser } from "./sse.js";

/**
 * The streaming completions client: one undici pool per origin, never smaller than the
 * concurrency (a smaller pool silently caps the load), and a per-request handler on undici's
 * low-level dispatch API, so each network read costs one parser call and no stream machinery.
 *
 * Why the pool is larger than the concurrency: undici waits one full event-loop turn after a
 * response before it reuses that connection (`setImmediate`, against servers that close a
 * keep-alive connection anyway). A closed loop sends its next request in the same turn, so with
 * exactly one connection per slot every request would wait that turn, milliseconds under load,
 * inside its TTFT. Spare connections let it go out at once. `warmUp` opens them before a level
 * starts, so connection set-up is not measured either.
 *
 * A "chunk" is one delivery of response body bytes (what the server wrote at once, e.g. a stream
 * batcher's packet of several SSE events); its time is when the client got it, and its tokens
 * are the tokens of the events it completed. Every request ends as a record, successful or with
 * exactly one error kind; nothing is retried.
 */

export interface ClientTimeouts {
  /** TCP (and TLS) connection set-up. */
  connectMs: number;
  /** From send to the first token-bearing event. */
  firstTokenMs: number;
  /** From send to the end of the stream. */
  requestMs: number;
  /** Longest silence between two reads of the body. */
  idleMs: number;
}

export const DEFAULT_TIMEOUTS: ClientTimeouts = {
  connectMs: 10_000,
  firstTokenMs: 300_000,
  requestMs: 600_000,
  idleMs: 120_000,
};

export interface ClientOptions {
  baseUrl: string;
  /** Bearer token; only ever sent in the Authorization header. */
  token?: string;
  /** Most connections the pool may open; undefined means no limit. */
  connections?: number;
  timeouts?: Partial<ClientTimeouts>;
  /** max_tokens of the requests: a stream that ends with fewer tokens is `truncated`. */
  maxTokens?: number;
  /** The clock (ms); performance.now by default. */
  now?: () => number;
}

/** A request to send: the caller fills in who it is; the client fills in what happened. */
export interface RequestSpec {
  index: number;
  warmup: boolean;
  scheduledAt?: number;
  body: string;
  /** Sent as x-request-id, which vLLM and Ray Serve log, so a request can be traced server-side. */
  requestId?: string;
  /** This request's max_tokens, where requests differ (a dataset, a trace); else the client's. */
  maxTokens?: number;
}

/** `http://host:8000`, `http://host:8000/`, `http://host:8000/v1` → origin + path prefix. */
export function splitBaseUrl(baseUrl: string): { origin: string; prefix: string } {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new TypeError(`not a URL: ${baseUrl}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new TypeError(`not an http(s) URL: ${baseUrl}`);
  const prefix = url.pathname.replace(/\/+$/, "").replace(/\/v1$/, "");
  return { origin: url.origin, prefix };
}

export class CompletionClient {
  private readonly pool: Pool;
  private readonly prefix: string;
  private readonly timeouts: ClientTimeouts;
  private readonly headers: Record<string, string>;
  private readonly active = new Set<StreamHandler>();
  readonly now: () => number;

  constructor(private readonly options: ClientOptions) {
    const { origin, prefix } = splitBaseUrl(options.baseUrl);
    this.prefix = prefix;
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    this.now = options.now ?? (() => performance.now());
    this.pool = new Pool(origin, {
      connections: options.connections ?? null,
      pipelining: 1,
      connect: { timeout: this.timeouts.connectMs },
      headersTimeout: this.timeouts.firstTokenMs,
      bodyTimeout: this.timeouts.idleMs,
    });
    this.headers = { "content-type": "application/json", accept: "text/event-stream" };
    if (options.token) this.headers.authorization = `Bearer ${options.token}`;
  }

  get inFlight(): number {
    return this.active.size;
  }

  /** Sends one streamed completion; always resolves, with the request's record. */
  send(spec: RequestSpec): Promise<RequestRecord> {
    return new Promise((resolve) => {
      const handler = new StreamHandler(
        spec,
        spec.maxTokens ?? this.options.maxTokens,
        this.timeouts,
        this.now,
        (record) => {
          this.active.delete(handler);
          resolve(record);
        },
      );
      this.active.add(handler);
      const headers = spec.requestId ? { ...this.headers, "x-request-id": spec.requestId } : this.headers;
      handler.start();
      this.pool.dispatch(
        { path: `${this.prefix}/v1/completions`, method: "POST", headers, body: spec.body },
        handler,
      );
    });
  }

  /**
   * Opens `count` connections now (concurrent GET /v1/models), so the level's first requests do
   * not pay for connection set-up. Returns how many answered; failures are the level's to find.
   */
  async warmUp(count: number): Promise<number> {
    const auth = this.headers.authorization;
    const one = async () => {
      try {
        const response = await this.pool.request({
          path: `${this.prefix}/v1/models`,
          method: "GET",
          headers: auth ? { authorization: auth } : {},
        });
        await response.body.dump();
        return response.statusCode < 500 ? 1 : 0;
      } catch {
        return 0;
      }
    };
    const results = await Promise.all(Array.from({ length: count }, one));
    return results.reduce<number>((a, b) => a + b, 0);
  }

  /** Ends every request in flight now; they resolve as `cancelled`. */
  cancelAll(detail = "stopped by the client"): void {
    for (const handler of [...this.active]) handler.fail("cancelled", detail);
  }

  async close(): Promise<void> {
    this.cancelAll();
    await this.pool.close().catch(() => {});
  }
}

const MAX_ERROR_BODY = 4096;

class StreamHandler implements Dispatcher.DispatchHandler {
  private readonly record: RequestRecord;
  private readonly parser: SseParser;
  private controller: Dispatcher.DispatchController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private finished = false;
  private responseStarted = false;
  /** Non-2xx, or a JSON body where a stream was expected: collect the body for the error detail. */
  private errorBody: Buffer[] | undefined;
  private errorBodyBytes = 0;
  private eventError: string | undefined;
  // Per-read accumulation, flushed into one chunk after each read.
  private readTokens = 0;
  private readTextBytes = 0;
  /** Tokens reported by usage on events without text (e.g. a held-back partial character). */
  private carriedTokens = 0;
  private lastCumulativeTokens = 0;
  private sawTextWithoutUsage = false;
  private chunkTextBytes: Uint32Array;

  constructor(
    spec: RequestSpec,
    private readonly maxTokens: number | undefined,
    private readonly timeouts: ClientTimeouts,
    private readonly now: () => number,
    private readonly done: (record: RequestRecord) => void,
  ) {
    const capacity = Math.min((maxTokens ?? 256) + 4, 8192);
    this.record = {
      index: spec.index,
      warmup: spec.warmup,
      dispatchedAt: 0,
      sentAt: 0,
      endAt: 0,
      chunkTimes: new Float64Array(capacity),
      chunkTokens: new Uint32Array(capacity),
      chunkCount: 0,
      chunkTokensExact: false,
      status: 0,
      doneReceived: false,
    };
    if (spec.scheduledAt !== undefined) this.record.scheduledAt = spec.scheduledAt;
    this.chunkTextBytes = new Uint32Array(capacity);
    this.parser = new SseParser((bytes, start, end, eventType) => this.onEvent(bytes, start, end, eventType));
  }

  start(): void {
    this.record.dispatchedAt = this.now();
    // Until undici puts the request on a connection (onRequestStart), it counts as sent now.
    this.record.sentAt = this.record.dispatchedAt;
    const limit = Math.min(this.timeouts.firstTokenMs, this.timeouts.requestMs);
    this.timer = setTimeout(
      () => this.fail("timeout_before_first_token", `no token within ${seconds(limit)}`),
      limit,
    );
  }

  /** undici calls this as it writes the request to a connection: the moment it is sent. */
  onRequestStart(controller: Dispatcher.DispatchController): void {
    if (!this.controller) this.record.sentAt = this.now();
    this.controller = controller;
    if (this.finished) controller.abort(new Error("request already ended"));
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    this.responseStarted = true;
    this.record.status = statusCode;
    const contentType = String(headers["content-type"] ?? "");
    if (statusCode < 200 || statusCode >= 300 || contentType.includes("application/json"))
      this.errorBody = [];
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.finished) return;
    if (this.errorBody) {
      if (this.errorBodyBytes < MAX_ERROR_BODY) {
        this.errorBody.push(chunk.subarray(0, MAX_ERROR_BODY - this.errorBodyBytes));
        this.errorBodyBytes += chunk.length;
      }
      return;
    }
    const arrivedAt = this.now();
    this.parser.push(chunk);
    this.flushRead(arrivedAt);
  }

  onResponseEnd(): void {
    if (this.finished) return;
    if (!this.errorBody) {
      this.parser.end();
      this.flushRead(this.now());
    }
    this.complete();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.finished) return;
    const code = (error as { code?: string }).code ?? "";
    const detail = `${code ? `${code}: ` : ""}${error.message}`;
    if (
      code === "UND_ERR_HEADERS_TIMEOUT" ||
      (code === "UND_ERR_BODY_TIMEOUT" && this.record.chunkCount === 0)
    ) {
      this.fail("timeout_before_first_token", detail);
    } else if (!this.responseStarted) {
      // No response at all: the connection failed or was closed under us (refused, reset, DNS,
      // connect timeout, or a keep-alive socket the server had already closed).
      this.fail("connect", detail);
    } else {
      this.fail("stream_broken", `connection ended before [DONE] (${detail})`);
    }
  }

  fail(kind: ErrorKind, detail: string): void {
    if (this.finished) return;
    this.record.errorKind = kind;
    this.record.errorDetail = redact(detail);
    this.finish();
    this.controller?.abort(new Error(`orchestrate: ${kind}`));
  }

  private onEvent(bytes: Uint8Array, start: number, end: number, eventType: string | undefined): void {
    if (eventType === "error") {
      this.eventError ??= `error event: ${Buffer.from(bytes.subarray(start, end)).toString("utf8").slice(0, 300)}`;
      return;
    }
    const event = scanEvent(bytes, start, end);
    if (event.kind === "done") {
      this.record.doneReceived = true;
      return;
    }
    if (event.kind === "error") {
      this.eventError ??= event.errorMessage ?? "error event";
      return;
    }
    let tokens = 0;
    if (event.hasUsage) {
      const delta = event.completionTokens - this.lastCumulativeTokens;
      this.lastCumulativeTokens = event.completionTokens;
      this.record.completionTokens = event.completionTokens;
      this.record.promptTokens = event.promptTokens;
      if (event.hasText) tokens = Math.max(delta, 0);
      else if (delta > 0) this.carriedTokens += delta;
    } else if (event.hasText) {
      tokens = 1;
      this.sawTextWithoutUsage = true;
    }
    if (event.hasText) {
      this.readTokens += tokens + this.carriedTokens;
      this.carriedTokens = 0;
      this.readTextBytes += event.textBytes;
    }
    if (event.finishReason !== null) this.record.finishReason = event.finishReason;
  }

  /** After each read: the events it completed become one chunk, if they carried text. */
  private flushRead(arrivedAt: number): void {
    if (this.readTextBytes === 0 && this.readTokens === 0) return;
    const record = this.record;
    if (record.chunkCount === record.chunkTimes.length) this.grow();
    const i = record.chunkCount++;
    record.chunkTimes[i] = arrivedAt;
    record.chunkTokens[i] = this.readTokens;
    this.chunkTextBytes[i] = this.readTextBytes;
    this.readTokens = 0;
    this.readTextBytes = 0;
    if (i === 0) this.armRequestTimeout(arrivedAt);
  }

  private armRequestTimeout(firstTokenAt: number): void {
    clearTimeout(this.timer);
    const left = Math.max(0, this.timeouts.requestMs - (firstTokenAt - this.record.sentAt));
    this.timer = setTimeout(
      () => this.fail("stream_broken", `request took longer than ${seconds(this.timeouts.requestMs)}`),
      left,
    );
  }

  private complete(): void {
    const record = this.record;
    if (this.errorBody) {
      const body = Buffer.concat(this.errorBody).toString("utf8");
      const status = record.status;
      if (status >= 200 && status < 300) {
        this.fail("bad_response", `HTTP ${status} with a JSON body instead of a stream: ${clip(body)}`);
      } else {
        const kind: ErrorKind = status === 429 ? "http_429" : status >= 500 ? "http_5xx" : "http_4xx";
        this.fail(kind, `HTTP ${status}: ${serverMessage(body)}`);
      }
      return;
    }
    if (this.carriedTokens > 0 && record.chunkCount > 0) {
      record.chunkTokens[record.chunkCount - 1]! += this.carriedTokens;
      this.carriedTokens = 0;
    }
    record.chunkTokensExact = record.chunkCount > 0 && !this.sawTextWithoutUsage;
    if (!record.chunkTokensExact) this.distributeUsageOverChunks();
    const failure = this.streamFailure();
    if (failure) this.fail(failure[0], failure[1]);
    else this.finish();
  }

  /** What was wrong with a stream that arrived whole, if anything. */
  private streamFailure(): [ErrorKind, string] | undefined {
    const record = this.record;
    if (this.eventError) return ["bad_response", this.eventError];
    if (!record.doneReceived) return ["stream_broken", "connection ended before [DONE]"];
    const produced = record.completionTokens ?? sumTokens(record);
    if (record.chunkCount === 0) {
      return [produced > 0 ? "bad_response" : "truncated", `no text arrived (usage: ${produced} tokens)`];
    }
    if (this.maxTokens !== undefined && produced < this.maxTokens) {
      const reason = record.finishReason ?? "none";
      return [
        "truncated",
        `${produced} of ${this.maxTokens} tokens (finish_reason ${reason}) although ignore_eos was set`,
      ];
    }
    return undefined;
  }

  /**
   * Without per-event usage, each text event counted as one token. When the final usage says
   * otherwise (several tokens per event), spread the true total over the chunks in proportion to
   * their text, so tokens per chunk and the token-weighted ITL stay right on average.
   */
  private distributeUsageOverChunks(): void {
    const record = this.record;
    const total = record.completionTokens;
    const n = record.chunkCount;
    if (total === undefined || n === 0 || sumTokens(record) === total) return;
    let bytes = 0;
    for (let i = 0; i < n; i++) bytes += this.chunkTextBytes[i]!;
    const tokens = record.chunkTokens;
    const remainders: Array<[number, number]> = [];
    let given = 0;
    for (let i = 0; i < n; i++) {
      const share = bytes > 0 ? (total * this.chunkTextBytes[i]!) / bytes : total / n;
      tokens[i] = Math.floor(share);
      given += tokens[i]!;
      remainders.push([share - tokens[i]!, i]);
    }
    remainders.sort((a, b) => b[0] - a[0]);
    for (let k = 0; given < total; k++, given++) tokens[remainders[k % n]![1]]! += 1;
    // Every chunk carried text, so it carried at least one token, when there are enough to go round.
    if (total < n) return;
    for (let i = 0; i < n; i++) {
      if (tokens[i] !== 0) continue;
      let richest = 0;
      for (let j = 1; j < n; j++) if (tokens[j]! > tokens[richest]!) richest = j;
      tokens[richest]! -= 1;
      tokens[i] = 1;
    }
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.timer);
    this.record.endAt = this.now();
    this.done(this.record);
  }

  private grow(): void {
    const record = this.record;
    const size = record.chunkTimes.length * 2;
    const times = new Float64Array(size);
    times.set(record.chunkTimes);
    const tokens = new Uint32Array(size);
    tokens.set(record.chunkTokens);
    const text = new Uint32Array(size);
    text.set(this.chunkTextBytes);
    record.chunkTimes = times;
    record.chunkTokens = tokens;
    this.chunkTextBytes = text;
  }
}

function sumTokens(record: RequestRecord): number {
  let sum = 0;
  for (let i = 0; i < record.chunkCount; i++) sum += record.chunkTokens[i]!;
  return sum;
}

/** The message of an OpenAI-style error body, or the body itself. */
export function serverMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown; message?: unknown; detail?: unknown };
    const error = parsed.error;
    if (
      typeof error === "object" &&
      error !== null &&
      typeof (error as { message?: unknown }).message === "string"
    ) {
      return clip((error as { message: string }).message);
    }
    if (typeof error === "string") return clip(error);
    if (typeof parsed.message === "string") return clip(parsed.message);
    if (parsed.detail !== undefined) return clip(JSON.stringify(parsed.detail));
  } catch {
    // not JSON: fall through to the raw text
  }
  return clip(body.trim() || "(empty body)");
}

function clip(text: string, max = 300): string {
  const one = text.replace(/\s+/g, " ");
  return one.length > max ? `${one.slice(0, max)}…` : one;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}
