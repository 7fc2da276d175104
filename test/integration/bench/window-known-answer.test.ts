import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBenchmark } from "../../../src/bench/coordinator.js";
import { startTestServer, type TestServer } from "../../helpers/http-server.js";
import { lagMargin, partLagMs, watchLoopLag } from "../../helpers/timing-margin.js";
import { CHAT_TEMPLATE_TOKENS, scheduledStream } from "../../helpers/token-stream.js";

/**
 * The window's rates against a server whose answer is known: the first token 30 ms after a
 * request arrives, then one every 5 ms, 64 tokens, no limit on how many it serves at once. With 8
 * streams per client, a slot's request takes 30 + 63 × 5 = 345 ms, so each client's closed loop
 * sustains 8 × 64 / 0.345 s = 1484 output tokens/s, and every request carries 64 tokens. Run at 1
 * and 4 clients, with levels of 3 and 10 requests per stream: the table of issue #16, where more
 * than one client read 69–99 tokens per request and goodput 65–93% of throughput.
 */

const FIRST_MS = 30;
const GAP_MS = 5;
const TOKENS = 64;
const STREAMS = 8;
const REQUEST_MS = FIRST_MS + (TOKENS - 1) * GAP_MS;
const CLOSED_FORM_PER_CLIENT = (STREAMS * TOKENS * 1000) / REQUEST_MS;

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer(scheduledStream({ firstMs: FIRST_MS, gapMs: GAP_MS }).handler);
});
afterAll(() => server.close());

const json = (path: string) => JSON.parse(readFileSync(path, "utf8")) as Record<string, any>;

describe("rates over the window against a deterministic server", { timeout: 60_000 }, () => {
  // The grid on completions, and its two far corners again on chat (a role-only event first).
  const cases = [
    ...[1, 4].flatMap((clients) =>
      [3, 10].map((perStream) => ({ clients, perStream, endpoint: "completions" as const })),
    ),
    { clients: 4, perStream: 3, endpoint: "chat" as const },
    { clients: 1, perStream: 10, endpoint: "chat" as const },
  ];
  for (const { clients, perStream, endpoint } of cases) {
    it(`${clients} client(s), ${perStream} × concurrency, ${endpoint}: 64 tokens per request, goodput = throughput`, async () => {
      const expDir = join(mkdtempSync(join(tmpdir(), "known-answer-")), "exp");
      const lag = watchLoopLag();
      await runBenchmark({
        baseUrl: server.url,
        clients,
        mode: "concurrency",
        levels: [STREAMS],
        inputTokens: 16,
        outputTokens: TOKENS,
        promptsPerConcurrency: perStream,
        // Every request meets these: goodput must then be the throughput, to the last digit.
        goodput: { ttftMs: 60_000, e2elMs: 60_000 },
        expDir,
        seed: 16,
        endpoint,
        ...(endpoint === "chat" ? { tokenizer: "o200k_base" as const } : {}),
      });
      lag.stop();
      const all = json(join(expDir, "all-parts", `conc${STREAMS}.json`));
      expect(all.window.disjoint).toBe(false);
      expect(all.completed).toBe(clients * perStream * STREAMS);
      expect(all.output_throughput / all.request_throughput).toBeCloseTo(TOKENS, 6);
      expect(all.output_goodput).toBeCloseTo(all.output_throughput, 6);
      expect(all.request_goodput).toBeCloseTo(all.request_throughput, 9);
      const prompt = 16 + (endpoint === "chat" ? CHAT_TEMPLATE_TOKENS : 0);
      expect(all.total_token_throughput / all.request_throughput).toBeCloseTo(prompt + TOKENS, 6);
      // The clients' shares of the window add up to the level.
      const shares = all.clients as Array<{ output_throughput: number; request_throughput: number }>;
      const sum = (pick: (c: (typeof shares)[number]) => number) => shares.reduce((s, c) => s + pick(c), 0);
      expect(sum((c) => c.output_throughput)).toBeCloseTo(all.output_throughput, 6);
      expect(sum((c) => c.request_throughput)).toBeCloseTo(all.request_throughput, 9);
      // No request is faster than the server's schedule, so no slot can do better than the closed
      // form; each is slower only by the lag of the server's loop and the client's on the way.
      const closedForm = clients * CLOSED_FORM_PER_CLIENT;
      const clientLag = Math.max(
        ...Array.from({ length: clients }, (_, i) =>
          partLagMs(json(join(expDir, `part${i + 1}`, `conc${STREAMS}.json`))),
        ),
      );
      const slowest = REQUEST_MS + 2 * lagMargin(lag.maxMs(), clientLag);
      if (process.env.ORCHESTRATE_PRINT_TABLES) {
        console.log(
          `| ${clients} | ${perStream} × concurrency | ${((all.output_throughput / closedForm - 1) * 100).toFixed(1)}% | ${(all.output_throughput / all.request_throughput).toFixed(2)} | ${(all.output_goodput / all.output_throughput).toFixed(4)} | (loop lag ${clientLag.toFixed(0)} ms) |`,
        );
      }
      expect(all.output_throughput).toBeLessThanOrEqual(closedForm * (1 + 1e-9));
      expect(all.output_throughput).toBeGreaterThanOrEqual((closedForm * REQUEST_MS) / slowest);
    });
  }
});

/**
 * A replayed trace against the same server: rows every 10 ms of trace time, dealt round-robin to
 * N clients and played N times as fast, so each client sends 100 req/s and the level as a whole
 * N × 100. The first 40 rows of each client (more than the 34.5 a client keeps in flight) are
 * warm-up, so the window opens in the steady state, where the request rate over the window is the
 * trace's rate and every request carries 64 tokens.
 */
describe("replayed rates over the window against a deterministic server", { timeout: 60_000 }, () => {
  const SPACING_MS = 10;
  const WARMUP_PER_CLIENT = 40;
  for (const clients of [1, 4]) {
    for (const measuredPerClient of [60, 200]) {
      it(`${clients} client(s), ${measuredPerClient} measured rows each: the trace's rate, 64 tokens per request`, async () => {
        const dir = mkdtempSync(join(tmpdir(), "known-answer-replay-"));
        const rows = clients * (WARMUP_PER_CLIENT + measuredPerClient);
        const trace = join(dir, "trace.jsonl");
        const lines = Array.from({ length: rows }, (_, i) =>
          JSON.stringify({
            timestamp: i * SPACING_MS,
            input_length: 16,
            output_length: TOKENS,
            hash_ids: [],
          }),
        );
        writeFileSync(trace, `${lines.join("\n")}\n`);
        const expDir = join(dir, "exp");
        await runBenchmark({
          baseUrl: server.url,
          clients,
          mode: "replay",
          levels: [1],
          inputTokens: 16,
          outputTokens: TOKENS,
          warmup: WARMUP_PER_CLIENT,
          workloadFile: { kind: "trace", format: "mooncake", path: trace },
          goodput: { ttftMs: 60_000, e2elMs: 60_000 },
          expDir,
          seed: 16,
        });
        const all = json(join(expDir, "all-parts", "speed1.json"));
        const traceRate = (clients * 1000) / SPACING_MS;
        // Sends held up by a stalled loop go out together once it runs again, so at either end of the
        // window up to a loop stall's worth of the trace moves in or out of it: 2%, plus the clients'
        // loop lag p99 over the window's length (a short window feels a stall the most).
        const clientLagP99 = Math.max(
          ...Array.from(
            { length: clients },
            (_, i) =>
              json(join(expDir, `part${i + 1}`, "speed1.json")).client.event_loop_lag_p99_ms as number,
          ),
        );
        const allowed = 0.02 + clientLagP99 / (1000 * all.window.length_s);
        if (process.env.ORCHESTRATE_PRINT_TABLES)
          console.log(
            `| replay ${clients} | ${measuredPerClient} rows | ${((all.request_throughput / traceRate - 1) * 100).toFixed(2)}% | allowed ±${(allowed * 100).toFixed(1)}% (loop lag p99 ${clientLagP99.toFixed(1)} ms, window ${all.window.length_s.toFixed(2)} s) |`,
          );
        expect(all.completed).toBe(rows - clients * WARMUP_PER_CLIENT);
        expect(all.output_throughput / all.request_throughput).toBeCloseTo(TOKENS, 6);
        expect(all.output_goodput).toBeCloseTo(all.output_throughput, 6);
        expect(Math.abs(all.request_throughput / traceRate - 1)).toBeLessThanOrEqual(allowed);
        const shares = all.clients as Array<{ request_throughput: number }>;
        expect(shares.reduce((sum, c) => sum + c.request_throughput, 0)).toBeCloseTo(
          all.request_throughput,
          9,
        );
      });
    }
  }
});
