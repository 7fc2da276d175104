/**
 * One generation request on the wire: turns the service model's events (routed, chunk, rejected)
 * into HTTP — SSE events for streams (one event per token, a batch of them per network write, as
 * Ray Serve's stream batcher sends them), one JSON body otherwise — and applies the request's
 * fault plan. Records the request's ground truth when it ends, however it ends.
 */
import type { ServerResponse } from "node:http";
import type { Clock } from "../clock.js";
import type { FaultPlan } from "./faults.js";
import { type Endpoint, errorBody, type FinishReason, ResponseFormatter, type Usage } from "./openai.js";
import type { ServiceHandle, ServiceListener } from "./service.js";
import { SseWriter } from "./sse-writer.js";
import type { RequestLog, RequestRecord, RequestStatus } from "./stats.js";
import { tokenText } from "./tokens.js";

export interface ExchangeSpec {
  seq: number;
  endpoint: Endpoint;
  formatter: ResponseFormatter;
  stream: boolean;
  includeUsage: boolean;
  promptTokens: number;
  outputTokens: number;
  finishReason: FinishReason;
  /** Seeds the generated text. */
  fingerprint: number;
  faults: FaultPlan;
  /** Report cached prompt tokens in usage (prefix caching is on). */
  reportCachedTokens: boolean;
  arrival: number;
}

const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
};

export class Exchange implements ServiceListener {
  handle: ServiceHandle | undefined;
  private ended = false;
  private routedAt: number | undefined;
  private route: { replica: number; ingress: number } | undefined;
  private firstTokenAt: number | undefined;
  private delivered = 0;
  private chunks = 0;
  private readonly sse: SseWriter;

  constructor(
    private readonly spec: ExchangeSpec,
    private readonly res: ServerResponse,
    private readonly clock: Clock,
    private readonly log: RequestLog,
  ) {
    this.sse = new SseWriter(res);
    res.on("close", () => {
      if (!this.ended) this.finish("cancelled", 499);
    });
  }

  onRouted(route: { replica: number; ingress: number }, _time: number): void {
    if (this.ended) return;
    this.route = route;
    this.routedAt = this.clock.now();
    if (!this.spec.stream) return;
    this.sse.open(SSE_HEADERS);
    if (this.spec.endpoint === "chat.completions") this.sse.write(this.spec.formatter.roleEvent());
  }

  onChunk(_time: number, tokens: number, delivered: number, last: boolean): void {
    if (this.ended) return;
    if (this.spec.stream) this.streamChunk(delivered - tokens, delivered, last);
    else if (last) this.answerAtEnd(delivered);
  }

  onRejected(message: string): void {
    if (this.ended) return;
    this.sendError(503, message);
    this.finish("rejected", 503);
  }

  /** Answers an error before anything was sent (validation passed; the fault plan says 500). */
  failWithStatus(status: number, message: string): void {
    if (this.ended) return;
    this.sendError(status, message);
    this.finish("error", status);
  }

  private streamChunk(from: number, delivered: number, last: boolean): void {
    const { cutAfterTokens: cutAt, streamErrorAfterTokens: errorAt } = this.spec.faults;
    // The faults fire exactly at their token, even when it falls inside a batched chunk.
    const stopAt = Math.min(
      cutAt ?? Number.POSITIVE_INFINITY,
      errorAt ?? Number.POSITIVE_INFINITY,
      delivered,
    );
    let packet = this.tokenEvents(from, stopAt, last && stopAt === delivered);
    if (stopAt > from) this.noteTokens(stopAt - from);
    if (cutAt !== undefined && cutAt <= delivered) {
      this.cut(stopAt, packet);
    } else if (errorAt !== undefined && errorAt <= delivered) {
      packet += this.spec.formatter.errorEvent(500, "Internal server error (injected in-stream fault)");
      this.sse.end(packet + ResponseFormatter.done);
      this.finish("error", 200);
    } else if (!last) {
      this.sse.write(packet);
    } else {
      if (this.spec.includeUsage) packet += this.spec.formatter.usageEvent(this.usage(delivered));
      this.sse.end(packet + ResponseFormatter.done);
      this.finish("ok", 200);
    }
  }

  private answerAtEnd(tokens: number): void {
    const { faults } = this.spec;
    if (faults.cutAfterTokens !== undefined) this.cut(0);
    else if (faults.streamErrorAfterTokens !== undefined) {
      this.failWithStatus(500, "Internal server error (injected in-stream fault)");
    } else this.answerWhole(tokens);
  }

  private tokenEvents(from: number, to: number, finishes: boolean): string {
    let packet = "";
    const { formatter, fingerprint, finishReason } = this.spec;
    for (let index = from; index < to; index++) {
      packet += formatter.tokenEvent(
        tokenText(fingerprint, index),
        finishes && index === to - 1 ? finishReason : null,
      );
    }
    return packet;
  }

  private noteTokens(count: number): void {
    this.delivered += count;
    this.chunks += 1;
    this.firstTokenAt ??= this.clock.now();
  }

  private answerWhole(tokens: number): void {
    let text = "";
    for (let index = 0; index < tokens; index++) text += tokenText(this.spec.fingerprint, index);
    this.noteTokens(tokens);
    const body = JSON.stringify(
      this.spec.formatter.completeBody(text, this.spec.finishReason, this.usage(tokens)),
    );
    this.res.writeHead(200, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
    });
    this.res.end(body);
    this.finish("ok", 200);
  }

  /** Destroys the connection, after `lastWords` reached the socket, so the client gets exactly them. */
  private cut(tokensSent: number, lastWords = ""): void {
    this.delivered = tokensSent;
    this.finish("cut", this.spec.stream ? 200 : 0);
    if (lastWords) this.sse.write(lastWords, () => this.res.destroy());
    else this.res.destroy();
  }

  private sendError(status: number, message: string): void {
    if (this.res.headersSent) {
      this.res.destroy();
      return;
    }
    const body = JSON.stringify(errorBody(status, message));
    this.res.writeHead(status, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
    });
    this.res.end(body);
  }

  private usage(completionTokens: number): Usage {
    const usage: Usage = {
      prompt_tokens: this.spec.promptTokens,
      total_tokens: this.spec.promptTokens + completionTokens,
      completion_tokens: completionTokens,
    };
    if (this.spec.reportCachedTokens)
      usage.prompt_tokens_details = { cached_tokens: this.handle?.cachedTokens ?? 0 };
    return usage;
  }

  private finish(status: RequestStatus, httpStatus: number): void {
    if (this.ended) return;
    this.ended = true;
    if (status !== "ok") this.handle?.cancel();
    const toEpoch = (time: number | undefined) => (time === undefined ? null : this.clock.toEpochMs(time));
    const record: Omit<RequestRecord, "index"> = {
      seq: this.spec.seq,
      id: this.spec.formatter.id,
      endpoint: this.spec.endpoint,
      stream: this.spec.stream,
      status,
      http_status: httpStatus,
      ingress: this.route?.ingress ?? this.handle?.ingress ?? null,
      replica: this.route?.replica ?? null,
      arrival_ms: this.clock.toEpochMs(this.spec.arrival),
      routed_ms: toEpoch(this.routedAt),
      first_token_ms: toEpoch(this.firstTokenAt),
      finish_ms: this.clock.toEpochMs(this.clock.now()),
      prompt_tokens: this.spec.promptTokens,
      cached_tokens: this.handle?.cachedTokens ?? 0,
      completion_tokens: this.delivered,
      chunks: this.chunks,
      finish_reason: status === "ok" ? this.spec.finishReason : null,
    };
    this.log.add(record);
  }
}
