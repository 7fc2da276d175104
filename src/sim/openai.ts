/**
 * The OpenAI-compatible protocol as vLLM speaks it: request validation (unknown parameters are
 * accepted and ignored, as vLLM does with a warning) and response bodies with vLLM's keys.
 */
import { z } from "zod";
import type { ChatMessage } from "./tokens.js";

const StreamOptions = z
  .object({
    include_usage: z.boolean().nullish(),
    continuous_usage_stats: z.boolean().nullish(),
  })
  .nullish();

const common = {
  model: z.string().nullish(),
  stream: z.boolean().nullish(),
  stream_options: StreamOptions,
  ignore_eos: z.boolean().nullish(),
  min_tokens: z.number().int().nonnegative().nullish(),
  n: z.literal(1, { message: "the simulator generates one choice per request (n = 1)" }).nullish(),
};

export const CompletionRequestSchema = z.looseObject({
  ...common,
  prompt: z.union([z.string(), z.array(z.unknown())], {
    message: "must be a string or an array of token ids",
  }),
  max_tokens: z.number().int().min(1, "max_tokens must be at least 1").nullish(),
});

const ContentPart = z.looseObject({ type: z.string(), text: z.string().optional() });

export const ChatRequestSchema = z.looseObject({
  ...common,
  messages: z
    .array(
      z.looseObject({
        role: z.string(),
        content: z.union([z.string(), z.array(ContentPart), z.null()]).optional(),
      }),
    )
    .min(1, "must not be empty"),
  max_tokens: z.number().int().min(1, "max_tokens must be at least 1").nullish(),
  max_completion_tokens: z.number().int().min(1, "max_completion_tokens must be at least 1").nullish(),
});

export type CompletionRequest = z.output<typeof CompletionRequestSchema>;
export type ChatRequest = z.output<typeof ChatRequestSchema>;

/**
 * The prompt of a completion request: a string, or an array of token ids. A one-element list of
 * either is unwrapped; real batches (several prompts) are refused, one prompt per request.
 */
export function completionPrompt(
  request: CompletionRequest,
): { prompt: string | number[] } | { problem: string } {
  let prompt: unknown = request.prompt;
  if (
    Array.isArray(prompt) &&
    prompt.length === 1 &&
    (typeof prompt[0] === "string" || Array.isArray(prompt[0]))
  ) {
    prompt = prompt[0];
  }
  if (typeof prompt === "string") {
    return prompt.trim() === "" ? { problem: "prompt: must not be empty" } : { prompt };
  }
  if (!Array.isArray(prompt) || prompt.length === 0) return { problem: "prompt: must not be empty" };
  if (prompt.some((item) => typeof item === "string" || Array.isArray(item))) {
    return {
      problem: "prompt: batched prompts are not supported by the simulator; send one prompt per request",
    };
  }
  if (!prompt.every((item) => Number.isInteger(item) && (item as number) >= 0)) {
    return { problem: "prompt: token ids must be non-negative integers" };
  }
  return { prompt: prompt as number[] };
}

/** Chat messages with their text content (text parts joined, other parts ignored). */
export function chatMessages(request: ChatRequest): ChatMessage[] {
  return request.messages.map((message) => {
    const content = message.content;
    const text =
      typeof content === "string"
        ? content
        : (content ?? [])
            .filter((part) => part.type === "text")
            .map((part) => part.text ?? "")
            .join("\n");
    return { role: message.role, content: text };
  });
}

/** First problem of a failed validation, as one line with its path (vLLM answers one message). */
export function describeValidationError(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "invalid request";
  const path = issue.path.join(".");
  if (issue.code === "invalid_union") {
    return `${path || "request"}: has the wrong type`;
  }
  return path ? `${path}: ${issue.message}` : issue.message;
}

export interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: number };
}

const ERROR_TYPES: Record<number, string> = {
  400: "BadRequestError",
  401: "AuthenticationError",
  404: "NotFoundError",
  405: "MethodNotAllowed",
  413: "RequestTooLarge",
  429: "RateLimitError",
  500: "InternalServerError",
  503: "ServiceUnavailableError",
};

export function errorBody(status: number, message: string, param: string | null = null): ErrorBody {
  return { error: { message, type: ERROR_TYPES[status] ?? "Error", param, code: status } };
}

export interface Usage {
  prompt_tokens: number;
  total_tokens: number;
  completion_tokens: number;
  prompt_tokens_details?: { cached_tokens: number } | null;
}

export type FinishReason = "length" | "stop";
export type Endpoint = "completions" | "chat.completions";

/**
 * Builds one request's bodies. Stream events are assembled from a fixed prefix and suffix, so a
 * token costs one short string concatenation, not a JSON.stringify of the whole chunk.
 */
export class ResponseFormatter {
  private readonly head: string;
  private readonly tokenPrefix: string;

  constructor(
    readonly endpoint: Endpoint,
    readonly id: string,
    readonly model: string,
    readonly created: number,
  ) {
    const object = endpoint === "completions" ? "text_completion" : "chat.completion.chunk";
    this.head = `{"id":${JSON.stringify(id)},"object":"${object}","created":${created},"model":${JSON.stringify(model)}`;
    this.tokenPrefix =
      endpoint === "completions"
        ? `data: ${this.head},"choices":[{"index":0,"text":`
        : `data: ${this.head},"choices":[{"index":0,"delta":{"content":`;
  }

  /** One SSE event carrying one token's text; the last one carries the finish reason. */
  tokenEvent(text: string, finishReason: FinishReason | null): string {
    const reason = finishReason ? `"${finishReason}"` : "null";
    const tail =
      this.endpoint === "completions"
        ? `,"logprobs":null,"finish_reason":${reason},"stop_reason":null}]}\n\n`
        : `},"logprobs":null,"finish_reason":${reason}}]}\n\n`;
    return this.tokenPrefix + JSON.stringify(text) + tail;
  }

  /** The first event of a chat stream: the assistant role and no content yet (as vLLM sends). */
  roleEvent(): string {
    return `data: ${this.head},"choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}\n\n`;
  }

  /** The usage-only event before [DONE] (stream_options.include_usage). */
  usageEvent(usage: Usage): string {
    return `data: ${this.head},"choices":[],"usage":${JSON.stringify(usage)}}\n\n`;
  }

  errorEvent(status: number, message: string): string {
    return `data: ${JSON.stringify(errorBody(status, message))}\n\n`;
  }

  static readonly done = "data: [DONE]\n\n";

  /** The whole answer of a request that did not stream. */
  completeBody(text: string, finishReason: FinishReason, usage: Usage): Record<string, unknown> {
    const base = { id: this.id, created: this.created, model: this.model };
    if (this.endpoint === "completions") {
      return {
        ...base,
        object: "text_completion",
        choices: [{ index: 0, text, logprobs: null, finish_reason: finishReason, stop_reason: null }],
        usage,
      };
    }
    return {
      ...base,
      object: "chat.completion",
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: text, tool_calls: [] },
          logprobs: null,
          finish_reason: finishReason,
          stop_reason: null,
        },
      ],
      usage,
    };
  }
}
