/**
 * The engine on real timers, through HTTP, against the closed-form schedule (a single replica,
 * ingress costs off so only the engine shapes the timing). Exact checks live in the virtual-time
 * unit tests; these prove the real-time loop keeps to the same formula, judged by the
 * simulator's own timestamps and by the client's, within what the formula leaves out plus the
 * event-loop lag measured during the test (the simulator and the client share this process).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type RunningSimulator, startSimulator } from "../../../src/sim/simulator.js";
import { stream, tokenEvents } from "../../helpers/sim-client.js";
import { lagMargin, watchLoopLag } from "../../helpers/timing-margin.js";

const ENGINE = {
  decode_base_ms: 8,
  decode_per_seq_ms: 0.2,
  prefill_ms_per_token: 0.001,
  stream_batching_interval_ms: 0,
};
const OUTPUT = 250;
const PROMPT = 16;
const stepMs = (decoding: number) => ENGINE.decode_base_ms + ENGINE.decode_per_seq_ms * decoding;

// A simulator per case, so its replica's own record of how far it fell behind covers that case.
let server: RunningSimulator;
beforeEach(async () => {
  server = await startSimulator({
    // On a starved machine (CI running other suites on two cores) the loop may fall behind by
    // more than the default 250 ms; catching up instead of re-anchoring keeps the schedule.
    max_schedule_lag_ms: 10_000,
    replicas: 1,
    ingress_replicas: 1,
    engine: ENGINE,
    ingress: { request_overhead_ms: 0, chunk_cost_ms: 0 },
  });
});
afterEach(() => server.close());

describe("real-time engine vs the closed-form schedule", () => {
  it.each([1, 8, 32])("concurrency %i: TPOT and decode throughput on the formula", async (concurrency) => {
    const lag = watchLoopLag();
    const answers = await Promise.all(
      Array.from({ length: concurrency }, (_, i) =>
        stream(server.url, "/v1/completions", {
          prompt: Array.from({ length: PROMPT }, (_, t) => t + 100 * i),
          max_tokens: OUTPUT,
          ignore_eos: true,
          stream: true,
        }),
      ),
    );
    lag.stop();
    const stats = server.stats();
    const records = stats.requests;
    expect(records).toHaveLength(concurrency);
    expect(records.every((r) => r.status === "ok" && r.completion_tokens === OUTPUT)).toBe(true);

    const step = stepMs(concurrency);
    // How late a timestamp can be. The simulator's: as far as its engine fell behind its plan (it
    // records that itself; a loop that is starved for CPU falls behind by more than any one of
    // its stalls, as catching up takes a loop turn per step), plus a loop turn to write the
    // tokens out. The client's: one more loop turn to read them.
    const stepLag = stats.replicas[0]!.max_step_lag_ms!;
    const serverLate = stepLag + lagMargin(lag.maxMs());
    const clientLate = serverLate + lag.maxMs();
    const firstJoined = Math.min(...records.map((r) => r.first_token_ms!));
    const allDecoding = Math.max(...records.map((r) => r.first_token_ms!));
    const firstDone = Math.min(...records.map((r) => r.finish_ms));
    const lastDone = Math.max(...records.map((r) => r.finish_ms));
    // The closed form runs all 249 steps of a request with C sequences decoding. Before the last
    // request joined and after the first one left, fewer decode and steps are shorter: at most
    // per_seq × (C − 1) shorter, for as many steps as fit, at one sequence each, into that time
    // (the simulator's own timestamps, each late by up to its lag: the planned times lie within).
    const partialMs = allDecoding - firstJoined + (lastDone - firstDone) + 2 * serverLate;
    const partialSteps = Math.ceil(partialMs / stepMs(1)) + 2;
    const formulaSlack = partialSteps * ENGINE.decode_per_seq_ms * (concurrency - 1);
    // Steps are planned on absolute times: a step handled late does not move the plan of the
    // ones after it. So a span of 249 steps is off the plan only by how late its two ends are.
    const onFormula = (spanMs: number, late: number) => {
      expect(Math.abs(spanMs - (OUTPUT - 1) * step)).toBeLessThanOrEqual(formulaSlack + late);
    };

    // Server side: every request decodes at the formula's step time …
    for (const r of records) onFormula(r.finish_ms - r.first_token_ms!, serverLate);
    // Client side: what a client measures agrees with the same formula …
    const tokens = answers.map((answer) => tokenEvents(answer.events));
    for (const mine of tokens) {
      expect(mine).toHaveLength(OUTPUT);
      onFormula(mine.at(-1)!.at - mine[0]!.at, clientLate);
    }
    // … and while all of them decode, tokens reach the clients at C per step, exactly the formula:
    // only tokens near the window's two ends may fall on the wrong side, by the client's lateness
    // and the lag of the timestamps that mark the ends.
    const from = allDecoding - performance.timeOrigin;
    const to = firstDone - performance.timeOrigin;
    expect(to).toBeGreaterThan(from);
    const inWindow = tokens.flat().filter((t) => t.at > from && t.at <= to).length;
    const edge = concurrency * ((clientLate + serverLate) / step + 1);
    expect(Math.abs(inWindow - (concurrency * (to - from)) / step)).toBeLessThanOrEqual(2 * edge);
    // The first token: prefill of everything admitted with it, after at most one step in flight,
    // written late by no more than the loop lagged. (A loop that was behind schedule may deliver
    // sooner than a full step after arrival.)
    const prefill = ENGINE.prefill_ms_per_token * PROMPT * concurrency;
    for (const r of records) {
      expect(r.first_token_ms! - r.arrival_ms).toBeLessThanOrEqual(2 * step + prefill + serverLate);
    }
  });
});
