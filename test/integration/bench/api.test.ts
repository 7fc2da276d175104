import { afterEach, describe, expect, it } from "vitest";
import { listModels, smokeTest } from "../../../src/bench/api.js";
import { ExternalError } from "../../../src/errors.js";
import { startTestServer, type TestServer } from "../../helpers/http-server.js";
import { scheduledStream } from "../../helpers/token-stream.js";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("the readiness API", () => {
  it("lists the server's models", async () => {
    server = await startTestServer(() => {}, ["m1", "m2"]);
    expect(await listModels(server.url)).toEqual(["m1", "m2"]);
    expect(await listModels(`${server.url}/v1`)).toEqual(["m1", "m2"]);
  });

  it("says why listing failed, with a kind the caller can branch on", async () => {
    server = await startTestServer((_req, res) => {
      res.writeHead(401).end("{}");
    });
    // The helper answers /v1/models itself; under another prefix the handler answers 401.
    await expect(listModels(`${server.url}/prefix`)).rejects.toMatchObject({
      kind: "auth",
      hint: expect.stringContaining("OPENAI_API_KEY"),
    });
    const gone = await startTestServer(() => {});
    await gone.close();
    await expect(listModels(gone.url)).rejects.toMatchObject({
      kind: "transient",
      message: expect.stringMatching(/cannot reach/),
    });
  });

  it("smoke-tests with one short streamed completion", async () => {
    server = await startTestServer(scheduledStream({ firstMs: 20, gapMs: 2 }).handler, ["smoke-model"]);
    const result = await smokeTest({ baseUrl: server.url });
    expect(result).toMatchObject({
      model: "smoke-model",
      status: 200,
      promptTokens: 16,
      completionTokens: 16,
      chunks: 16,
      tokenSource: "usage",
    });
    expect(result.ttftMs).toBeGreaterThanOrEqual(20);
    expect(result.e2elMs).toBeGreaterThan(result.ttftMs);
  });

  it("throws the server's answer, and a hint, when the smoke test fails", async () => {
    server = await startTestServer((_req, res) => {
      res.writeHead(400, { "content-type": "application/json" });
      res.end(JSON.stringify({ object: "error", message: "prompt must be a string" }));
    });
    const error = await smokeTest({ baseUrl: server.url, model: "m" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExternalError);
    expect(error).toMatchObject({
      kind: "validation",
      message: expect.stringContaining("http_4xx: HTTP 400: prompt must be a string"),
      hint: expect.stringContaining("--prompt-format text"),
    });
  });
});
