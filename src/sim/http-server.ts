/**
 * The simulator's HTTP face, on node:http: the OpenAI routes vLLM serves, Ray Serve's health
 * route, and /sim/stats. Answers errors with the status codes and JSON error objects a real
 * server uses, so clients exercise their real error paths.
 */
import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Clock } from "../clock.js";
import { mix32 } from "../random.js";
import type { SimConfig } from "./config.js";
import { Exchange } from "./exchange.js";
import type { FaultPlanner } from "./faults.js";
import {
  type ChatRequest,
  ChatRequestSchema,
  type CompletionRequest,
  CompletionRequestSchema,
  chatMessages,
  completionPrompt,
  describeValidationError,
  type Endpoint,
  errorBody,
  ResponseFormatter,
} from "./openai.js";
import type { ServiceModel } from "./service.js";
import type { RequestLog, StatsSnapshot } from "./stats.js";
import { naturalStopLength, promptFingerprint, tokenizeChat, tokenizeText } from "./tokens.js";

const MAX_BODY_BYTES = 32 * 1024 * 1024;
/** vLLM's default max_tokens for /v1/completions (chat defaults to the rest of the context). */
const DEFAULT_COMPLETION_MAX_TOKENS = 16;

export interface Health {
  /** True once the service serves requests. */
  healthy(): boolean;
  /** Why it does not, for the 503 answers. */
  reason(): string;
}

export interface SimHttpDeps {
  config: SimConfig;
  service: ServiceModel;
  clock: Clock;
  log: RequestLog;
  health: Health;
  faults: FaultPlanner;
  snapshot(since: number, limit: number): StatsSnapshot;
}

type Route = (req: IncomingMessage, res: ServerResponse, url: URL) => void | Promise<void>;

export function createSimServer(deps: SimHttpDeps): Server {
  const generation = new GenerationHandler(deps);
  const routes: Record<string, { method: string; auth: boolean; handle: Route }> = {
    "/v1/models": {
      method: "GET",
      auth: true,
      handle: (_req, res) => {
        // Until the application is up, Ray Serve's proxy has nothing to route /v1 requests to.
        if (!deps.health.healthy()) return sendJson(res, 503, errorBody(503, deps.health.reason()));
        sendJson(res, 200, modelList(deps.config));
      },
    },
    "/v1/completions": {
      method: "POST",
      auth: true,
      handle: (req, res) => generation.handle(req, res, "completions"),
    },
    "/v1/chat/completions": {
      method: "POST",
      auth: true,
      handle: (req, res) => generation.handle(req, res, "chat.completions"),
    },
    "/-/healthz": {
      method: "GET",
      auth: false,
      handle: (_req, res) => sendHealth(res, deps.health, "success"),
    },
    "/health": { method: "GET", auth: false, handle: (_req, res) => sendHealth(res, deps.health, "") },
    "/-/routes": {
      method: "GET",
      auth: false,
      handle: (_req, res) => sendJson(res, 200, { "/": "llm_app" }),
    },
    "/sim/stats": {
      method: "GET",
      auth: true,
      handle: (_req, res, url) => {
        const since = Number(url.searchParams.get("since") ?? 0);
        const limit = Number(url.searchParams.get("limit") ?? Number.POSITIVE_INFINITY);
        if (!Number.isFinite(since) || since < 0 || Number.isNaN(limit) || limit < 0) {
          return sendJson(res, 400, errorBody(400, "since and limit must be non-negative numbers"));
        }
        sendJson(res, 200, deps.snapshot(Math.floor(since), limit));
      },
    },
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://sim.local");
    const route = routes[url.pathname];
    if (!route) return sendJson(res, 404, { detail: "Not Found" });
    if (req.method !== route.method && !(route.method === "GET" && req.method === "HEAD")) {
      res.setHeader("allow", route.method);
      return sendJson(res, 405, { detail: "Method Not Allowed" });
    }
    if (route.auth && !authorized(req, deps.config.token)) {
      res.setHeader("www-authenticate", "Bearer");
      return sendJson(
        res,
        401,
        errorBody(401, "Missing or invalid bearer token in the Authorization header."),
      );
    }
    Promise.resolve(route.handle(req, res, url)).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, errorBody(500, `simulator bug: ${String(error)}`));
      else res.destroy();
    });
  });
  // uvicorn's default, which vLLM runs under: idle keep-alive connections close after 5 s.
  server.keepAliveTimeout = 5_000;
  return server;
}

class GenerationHandler {
  private arrivals = 0;

  constructor(private readonly deps: SimHttpDeps) {}

  async handle(req: IncomingMessage, res: ServerResponse, endpoint: Endpoint): Promise<void> {
    const { config, clock } = this.deps;
    const arrival = clock.now();
    this.arrivals += 1;
    const seq = this.arrivals;
    const reject = (status: number, message: string, param: string | null = null) =>
      this.rejectEarly(res, { seq, endpoint, arrival, status, message, param });

    const body = await readBody(req);
    if (body === "too_large") return reject(413, `request body exceeds ${MAX_BODY_BYTES} bytes`);
    if (body === undefined) return; // the client went away while sending
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch (error) {
      return reject(400, `JSON decode error: ${(error as Error).message}`);
    }
    const parsed = normalizeRequest(endpoint, json, config.engine.max_model_len);
    if ("problem" in parsed) return reject(400, parsed.problem, parsed.param ?? null);
    const { request, promptIds, askedMax } = parsed;
    if (request.model != null && request.model !== config.model) {
      return reject(404, `The model \`${request.model}\` does not exist.`, "model");
    }
    if (!this.deps.health.healthy()) return reject(503, this.deps.health.reason());
    const maxModelLen = config.engine.max_model_len;
    if (promptIds.length + askedMax > maxModelLen) {
      return reject(
        400,
        `This model's maximum context length is ${maxModelLen} tokens. However, you requested ` +
          `${promptIds.length + askedMax} tokens (${promptIds.length} in the messages, ${askedMax} in the ` +
          "completion). Please reduce the length of the messages or completion.",
      );
    }

    const fingerprint = promptFingerprint(config.seed, promptIds);
    let outputTokens = askedMax;
    if (!request.ignore_eos) {
      const natural = Math.max(
        request.min_tokens ?? 0,
        naturalStopLength(fingerprint, config.natural_stop_mean_tokens),
      );
      outputTokens = Math.min(askedMax, natural);
    }
    const faults = this.deps.faults.plan(outputTokens);
    const stream = request.stream === true;
    const formatter = new ResponseFormatter(
      endpoint,
      requestId(endpoint, config.seed, seq),
      config.model,
      Math.floor(clock.toEpochMs(arrival) / 1000),
    );
    const exchange = new Exchange(
      {
        seq,
        endpoint,
        formatter,
        stream,
        includeUsage: stream && request.stream_options?.include_usage === true,
        promptTokens: promptIds.length,
        outputTokens,
        finishReason: outputTokens < askedMax ? "stop" : "length",
        fingerprint,
        faults,
        reportCachedTokens: config.engine.enable_prefix_caching,
        arrival,
      },
      res,
      clock,
      this.deps.log,
    );
    if (faults.httpError) return exchange.failWithStatus(500, "Internal server error (injected fault)");
    exchange.handle = this.deps.service.submit(
      { promptTokenIds: promptIds, outputTokens, stream, stallMs: faults.stallMs },
      exchange,
    );
  }

  /** Answers an error before the request reached the service, and records it. */
  private rejectEarly(
    res: ServerResponse,
    r: {
      seq: number;
      endpoint: Endpoint;
      arrival: number;
      status: number;
      message: string;
      param: string | null;
    },
  ): void {
    sendJson(res, r.status, errorBody(r.status, r.message, r.param));
    const { clock, log } = this.deps;
    log.add({
      seq: r.seq,
      id: "",
      endpoint: r.endpoint,
      stream: false,
      status: "error",
      http_status: r.status,
      ingress: null,
      replica: null,
      arrival_ms: clock.toEpochMs(r.arrival),
      routed_ms: null,
      first_token_ms: null,
      finish_ms: clock.toEpochMs(clock.now()),
      prompt_tokens: 0,
      cached_tokens: 0,
      completion_tokens: 0,
      chunks: 0,
      finish_reason: null,
    });
  }
}

interface NormalizedRequest {
  request: CompletionRequest | ChatRequest;
  promptIds: number[];
  /** max_tokens as asked, or its default (16 for completions, the rest of the context for chat). */
  askedMax: number;
}

/** Validates either endpoint's body and reduces it to what the service needs. */
function normalizeRequest(
  endpoint: Endpoint,
  json: unknown,
  maxModelLen: number,
): NormalizedRequest | { problem: string; param?: string } {
  if (endpoint === "completions") {
    const parsed = CompletionRequestSchema.safeParse(json);
    if (!parsed.success) return { problem: describeValidationError(parsed.error) };
    const prompt = completionPrompt(parsed.data);
    if ("problem" in prompt) return { problem: prompt.problem, param: "prompt" };
    const promptIds = typeof prompt.prompt === "string" ? tokenizeText(prompt.prompt) : prompt.prompt;
    return {
      request: parsed.data,
      promptIds,
      askedMax: parsed.data.max_tokens ?? DEFAULT_COMPLETION_MAX_TOKENS,
    };
  }
  const parsed = ChatRequestSchema.safeParse(json);
  if (!parsed.success) return { problem: describeValidationError(parsed.error) };
  const promptIds = tokenizeChat(chatMessages(parsed.data));
  const askedMax =
    parsed.data.max_completion_tokens ??
    parsed.data.max_tokens ??
    Math.max(1, maxModelLen - promptIds.length);
  return { request: parsed.data, promptIds, askedMax };
}

/** vLLM-style ids (`cmpl-` + 32 hex digits), derived from the seed and arrival number. */
function requestId(endpoint: Endpoint, seed: number, seq: number): string {
  let hex = "";
  for (let part = 0; part < 4; part++) {
    hex += mix32(mix32(seed ^ 0x1d872b41) ^ Math.imul(seq, 0x9e3779b1) ^ (part * 0x632be5ab))
      .toString(16)
      .padStart(8, "0");
  }
  return `${endpoint === "completions" ? "cmpl" : "chatcmpl"}-${hex}`;
}

function modelList(config: SimConfig): Record<string, unknown> {
  return {
    object: "list",
    data: [
      {
        id: config.model,
        object: "model",
        created: 0,
        owned_by: "vllm",
        root: config.model,
        parent: null,
        max_model_len: config.engine.max_model_len,
      },
    ],
  };
}

function authorized(req: IncomingMessage, token: string | undefined): boolean {
  if (!token) return true;
  const header = req.headers.authorization ?? "";
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  if (!match) return false;
  const given = Buffer.from(match[1]!);
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function sendHealth(res: ServerResponse, health: Health, okBody: string): void {
  if (health.healthy()) {
    res.writeHead(200, { "content-type": "text/plain" });
    res.end(okBody);
  } else {
    res.writeHead(503, { "content-type": "text/plain" });
    res.end(health.reason());
  }
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

/** The body as text, "too_large" past the limit, undefined when the client went away. */
function readBody(req: IncomingMessage): Promise<string | "too_large" | undefined> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (value: string | "too_large" | undefined) => {
      if (!settled) {
        settled = true;
        resolve(value);
      }
    };
    req.on("data", (part: Buffer) => {
      size += part.length;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners("data");
        req.resume();
        settle("too_large");
        return;
      }
      parts.push(part);
    });
    req.on("end", () => settle(Buffer.concat(parts).toString("utf8")));
    req.on("error", () => settle(undefined));
    req.on("close", () => settle(req.complete ? Buffer.concat(parts).toString("utf8") : undefined));
  });
}
