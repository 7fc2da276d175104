import { describe, expect, it } from "vitest";
import { type CompletionEvent, parseEvent, scanEvent } from "../../../src/bench/event-scan.js";

function run(fn: typeof scanEvent, payload: string, padding = ""): CompletionEvent {
  // Put the payload in the middle of a larger buffer, as a read holding several events would.
  const bytes = Buffer.from(`${padding}${payload}${padding}`);
  const start = Buffer.byteLength(padding);
  return { ...fn(bytes, start, start + Buffer.byteLength(payload)) };
}

const usage = (p: number, c: number) =>
  `"usage":{"prompt_tokens":${p},"total_tokens":${p + c},"completion_tokens":${c}}`;

const PAYLOADS: Record<string, string> = {
  vllmToken: `{"id":"cmpl-1","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":" the","logprobs":null,"finish_reason":null,"stop_reason":null}],"usage":null}`,
  continuousUsage: `{"id":"c","choices":[{"index":0,"text":" a b","finish_reason":null}],${usage(5000, 12)}}`,
  lastToken: `{"id":"c","choices":[{"index":0,"text":"!","finish_reason":"length","stop_reason":null}],"usage":null}`,
  finalUsage: `{"id":"c","object":"text_completion","choices":[],${usage(5000, 250)}}`,
  emptyText: `{"id":"c","choices":[{"index":0,"text":"","finish_reason":null}],"usage":null}`,
  nullText: `{"id":"c","choices":[{"index":0,"text":null,"finish_reason":null}]}`,
  chatRoleOnly: `{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`,
  chatContent: `{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}`,
  // vLLM's first chat event with continuous usage: the role, no content, zero completion tokens.
  chatRoleWithUsage: `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],${usage(40, 0)}}`,
  chatContentWithUsage: `{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":" the"},"logprobs":null,"finish_reason":null}],${usage(40, 1)}}`,
  // A reasoning model (gpt-oss) streams its analysis first: tokens, though not content.
  chatReasoningContent: `{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"reasoning_content":"We"},"logprobs":null,"finish_reason":null}]}`,
  chatReasoning: `{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":null,"reasoning":"need"},"logprobs":null,"finish_reason":null}]}`,
  prettyPrinted: `{\n  "choices" : [ { "text" : "x y" , "finish_reason" : "stop" } ],\n  "usage" : { "prompt_tokens" : 3 , "completion_tokens" : 7 }\n}`,
  trickyText: `{"choices":[{"text":"say \\"text\\": \\"usage\\":{\\"completion_tokens\\":9} \\\\","finish_reason":null}],"usage":null}`,
  unicodeEscaped: `{"choices":[{"text":"\\u00e9\\ud83c\\udf89","finish_reason":null}]}`,
  valuesThatLookLikeKeys: `{"object":"choices","model":"text","choices":[{"text":"usage","finish_reason":null,"note":"completion_tokens"}],"usage":null}`,
  noChoices: `{"id":"c","object":"text_completion","usage":{"prompt_tokens":1,"completion_tokens":2}}`,
  errorObject: `{"error":{"object":"error","message":"The engine died","type":"InternalServerError","code":500}}`,
  errorString: `{"error":"overloaded"}`,
  notJson: "this is not json",
  jsonArray: "[1,2,3]",
  done: "[DONE]",
};

describe("scanning completion events in place", () => {
  it.each(Object.entries(PAYLOADS))("agrees with JSON.parse on %s", (_name, payload) => {
    const fast = run(
      scanEvent,
      payload,
      'data: {"choices":[{"text":"noise"}],"usage":{"completion_tokens":1}}\n\n',
    );
    const slow = run(parseEvent, payload);
    const { textBytes: fastBytes, ...fastRest } = fast;
    const { textBytes: slowBytes, ...slowRest } = slow;
    expect(fastRest).toEqual(slowRest);
    // Byte counts are a relative weight; they agree exactly for plain ASCII text.
    if (!payload.includes("\\u")) expect(fastBytes).toBe(slowBytes);
  });

  it("reads the facts a client needs from each shape", () => {
    expect(run(scanEvent, PAYLOADS.vllmToken!)).toMatchObject({
      kind: "data",
      hasText: true,
      hasUsage: false,
    });
    expect(run(scanEvent, PAYLOADS.continuousUsage!)).toMatchObject({
      hasText: true,
      hasUsage: true,
      promptTokens: 5000,
      completionTokens: 12,
    });
    expect(run(scanEvent, PAYLOADS.lastToken!)).toMatchObject({ finishReason: "length" });
    expect(run(scanEvent, PAYLOADS.finalUsage!)).toMatchObject({ hasText: false, completionTokens: 250 });
    expect(run(scanEvent, PAYLOADS.chatRoleOnly!)).toMatchObject({ hasText: false });
    expect(run(scanEvent, PAYLOADS.chatRoleWithUsage!)).toMatchObject({
      hasText: false,
      hasUsage: true,
      promptTokens: 40,
      completionTokens: 0,
    });
    expect(run(scanEvent, PAYLOADS.chatContentWithUsage!)).toMatchObject({
      hasText: true,
      completionTokens: 1,
    });
    expect(run(scanEvent, PAYLOADS.chatReasoningContent!)).toMatchObject({ hasText: true, textBytes: 2 });
    expect(run(scanEvent, PAYLOADS.chatReasoning!)).toMatchObject({ hasText: true, textBytes: 4 });
    expect(run(scanEvent, PAYLOADS.trickyText!)).toMatchObject({ hasText: true, hasUsage: false });
    expect(run(scanEvent, PAYLOADS.errorObject!)).toMatchObject({
      kind: "error",
      errorMessage: "The engine died",
    });
    expect(run(scanEvent, PAYLOADS.notJson!)).toMatchObject({ kind: "error" });
    expect(run(scanEvent, PAYLOADS.done!)).toMatchObject({ kind: "done" });
  });
});
