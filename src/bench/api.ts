import { request } from "undici";
import { ExternalError, type ExternalErrorKind, Interrupted } from "../errors.js";
import { freshSeed } from "../random.js";
import { redact, registerSecret } from "../secrets.js";
import { CompletionClient, serverMessage, splitBaseUrl } from "./client.js";
import type { ErrorKind } from "./record.js";
import { type PromptFormat, Workload } from "./workload.js";

/**
 * The two calls a readiness check needs: which models the server offers, and one short streamed
 * completion that proves the whole path (auth, routing, the engine, streaming, usage) works.
 */

const MODELS_TIMEOUT_MS = 15_000;

/** The model ids of GET /v1/models. Throws ExternalError (kind says whether to retry). */
export async function listModels(baseUrl: string, token?: string, signal?: AbortSignal): Promise<string[]> {
  registerSecret(token);
  const { origin, prefix } = splitBaseUrl(baseUrl);
  const url = `${origin}${prefix}/v1/models`;
  let response: Awaited<ReturnType<typeof request>>;
  try {
    response = await request(url, {
      method: "GET",
      headers: token ? { authorization: `Bearer ${token}` } : {},
      headersTimeout: MODELS_TIMEOUT_MS,
      bodyTimeout: MODELS_TIMEOUT_MS,
      ...(signal ? { signal } : {}),
    });
  } catch (error) {
    if (signal?.aborted) throw new Interrupted();
    const code = (error as { code?: string }).code;
    throw new ExternalError(
      redact(`cannot reach ${url}: ${code ? `${code} ` : ""}${(error as Error).message}`),
      {
        kind: "transient",
        cause: error,
        hint: "is the server up? Check OPENAI_API_URL or --base-url",
      },
    );
  }
  const body = await response.body.text();
  const status = response.statusCode;
  if (status !== 200) {
    const kind = httpKind(status);
    throw new ExternalError(redact(`GET ${url} answered HTTP ${status}: ${serverMessage(body)}`), {
      kind,
      ...(kind === "auth" ? { hint: "set OPENAI_API_KEY to the server's bearer token" } : {}),
      ...(status === 404
        ? { hint: "is this an OpenAI-compatible server? The base URL should not include /v1/models" }
        : {}),
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new ExternalError(redact(`GET ${url} did not answer JSON: ${body.slice(0, 200)}`), {
      kind: "bad_response",
    });
  }
  const data = (parsed as { data?: unknown }).data;
  if (!Array.isArray(data)) {
    throw new ExternalError(redact(`GET ${url}: no "data" list in the answer: ${body.slice(0, 200)}`), {
      kind: "bad_response",
    });
  }
  return data.map((m) => (m as { id?: unknown }).id).filter((id): id is string => typeof id === "string");
}

/** The model to benchmark: the one asked for, or the first the server lists (as the seed did). */
export async function discoverModel(baseUrl: string, token?: string, signal?: AbortSignal): Promise<string> {
  const models = await listModels(baseUrl, token, signal);
  const first = models[0];
  if (first === undefined) {
    throw new ExternalError(`${baseUrl} lists no models (GET /v1/models returned an empty list)`, {
      kind: "not_found",
      hint: "the service may still be loading its model; wait, or pass --model",
    });
  }
  return first;
}

export interface SmokeOptions {
  baseUrl: string;
  token?: string;
  model?: string;
  signal?: AbortSignal;
  promptFormat?: PromptFormat;
  inputTokens?: number;
  outputTokens?: number;
  timeoutMs?: number;
}

export interface SmokeResult {
  model: string;
  status: number;
  ttftMs: number;
  e2elMs: number;
  promptTokens: number | null;
  completionTokens: number;
  chunks: number;
  finishReason: string | null;
  tokenSource: "usage" | "chunks";
}

/**
 * One short streamed completion, shaped like the benchmark's requests (token-id prompt,
 * ignore_eos, usage). Throws ExternalError with the server's answer when anything is off.
 */
export async function smokeTest(options: SmokeOptions): Promise<SmokeResult> {
  registerSecret(options.token);
  const model = options.model ?? (await discoverModel(options.baseUrl, options.token, options.signal));
  const outputTokens = options.outputTokens ?? 16;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const client = new CompletionClient({
    baseUrl: options.baseUrl,
    ...(options.token ? { token: options.token } : {}),
    connections: 1,
    maxTokens: outputTokens,
    timeouts: { firstTokenMs: timeoutMs, requestMs: timeoutMs },
  });
  const promptFormat = options.promptFormat ?? "token-ids";
  const inputTokens = options.inputTokens ?? 16;
  const workload = new Workload({
    model,
    endpoint: "completions",
    promptFormat,
    shapes: () => ({ inputTokens, outputTokens }),
    seed: freshSeed(),
  });
  const onAbort = () => client.cancelAll("interrupted");
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const record = await client.send({
      index: 0,
      warmup: false,
      body: workload.body(0),
      requestId: `smoke-${Date.now()}`,
    });
    if (options.signal?.aborted) throw new Interrupted();
    if (record.errorKind) {
      throw new ExternalError(
        `smoke test against ${options.baseUrl} (model ${model}) failed: ${record.errorKind}: ${record.errorDetail ?? ""}`,
        {
          kind: smokeKind(record.errorKind, record.status),
          ...hintFor(record.errorKind, record.status, promptFormat),
        },
      );
    }
    const first = record.chunkTimes[0]!;
    const last = record.chunkTimes[record.chunkCount - 1]!;
    return {
      model,
      status: record.status,
      ttftMs: first - record.sentAt,
      e2elMs: last - record.sentAt,
      promptTokens: record.promptTokens ?? null,
      completionTokens: record.completionTokens ?? sumChunkTokens(record.chunkTokens, record.chunkCount),
      chunks: record.chunkCount,
      finishReason: record.finishReason ?? null,
      tokenSource: record.completionTokens !== undefined ? "usage" : "chunks",
    };
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    await client.close();
  }
}

function sumChunkTokens(tokens: Uint32Array, count: number): number {
  let sum = 0;
  for (let i = 0; i < count; i++) sum += tokens[i]!;
  return sum;
}

function httpKind(status: number): ExternalErrorKind {
  if (status === 401 || status === 403) return "auth";
  if (status === 404) return "not_found";
  if (status === 429 || status >= 500) return "transient";
  return "validation";
}

function smokeKind(kind: ErrorKind, status: number): ExternalErrorKind {
  switch (kind) {
    case "connect":
    case "http_429":
    case "http_5xx":
    case "stream_broken":
      return "transient";
    case "timeout_before_first_token":
      return "timeout";
    case "http_4xx":
      return httpKind(status);
    default:
      return "bad_response";
  }
}

function hintFor(kind: ErrorKind, status: number, promptFormat: PromptFormat): { hint?: string } {
  if (kind === "http_4xx" && (status === 401 || status === 403))
    return { hint: "set OPENAI_API_KEY to the server's bearer token" };
  if (kind === "http_4xx" && status === 400 && promptFormat === "token-ids") {
    return { hint: "if the server refuses token-id prompts, use --prompt-format text" };
  }
  if (kind === "connect") return { hint: "is the server up? Check OPENAI_API_URL or --base-url" };
  if (kind === "truncated")
    return { hint: "the server ignored ignore_eos; the benchmark needs exact output lengths" };
  return {};
}
