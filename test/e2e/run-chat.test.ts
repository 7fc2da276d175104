import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { lengthSource } from "../../src/bench/workload.js";
import { loadPlan } from "../../src/plan/load.js";
import { runFolder, startOrchestrate, workspace } from "../helpers/orchestrate-process.js";

/**
 * plans/chat.yaml end to end on the local simulator: every request went to the chat endpoint,
 * and each asked for exactly the lengths its index draws from the plan's distributions and
 * seed, at every scale. The check is against the simulator's own per-request log, not against
 * what the client recorded.
 */

/** The simulator's chat template: 3 tokens per message and 3 that prime the answer (src/sim/tokens.ts). */
const SIM_CHAT_TEMPLATE_TOKENS = 6;

interface ServerRequest {
  endpoint: string;
  status: string;
  prompt_tokens: number;
  completion_tokens: number;
}

describe("plans/chat.yaml on the local target", { timeout: 120_000 }, () => {
  it("sends chat requests whose lengths follow the plan's distributions, the same at every scale", async () => {
    const cwd = workspace();
    const result = await startOrchestrate(["run", "plans/chat.yaml", "--target", "local"], { cwd }).done;
    expect(result.code, result.stderr).toBe(0);
    const { plan } = loadPlan(join(cwd, "plans/chat.yaml"), { env: {} });
    const b = plan.benchmark;
    const shapes = lengthSource(b.input_tokens, b.output_tokens, b.seed!);
    // Per client and level: one warm-up wave (the concurrency), then prompts_per_concurrency waves.
    const perClient = b.concurrency.flatMap((c) =>
      Array.from({ length: c * (1 + b.prompts_per_concurrency) }, (_, i) => shapes(i)),
    );

    const cells = join(runFolder(cwd), "cells");
    const cellNames = readdirSync(cells).sort();
    expect(cellNames).toHaveLength(plan.scales.length);
    for (const [n, cell] of cellNames.entries()) {
      const clients = plan.scales[n]!.clients;
      const stats = JSON.parse(readFileSync(join(cells, cell, "server-stats.json"), "utf8"));
      expect(stats.dropped).toBe(0);
      const chat = (stats.requests as ServerRequest[]).filter((r) => r.endpoint === "chat.completions");
      // The readiness check's smoke completion stays on /v1/completions; the benchmark is all chat.
      expect(stats.requests.length - chat.length).toBeLessThanOrEqual(1);
      expect(chat.every((r) => r.status === "ok")).toBe(true);
      const served = chat
        .map((r) => `${r.prompt_tokens - SIM_CHAT_TEMPLATE_TOKENS}/${r.completion_tokens}`)
        .sort();
      const asked = Array.from({ length: clients }, () => perClient)
        .flat()
        .map((s) => `${s.inputTokens}/${s.outputTokens}`)
        .sort();
      expect(served).toEqual(asked);

      const level = JSON.parse(readFileSync(join(cells, cell, "all-parts", "conc16.json"), "utf8"));
      expect(level.endpoint).toBe("chat");
      expect(level.lengths.seed).toBe(b.seed);
      expect(level.prompt_tokens_deviation).toMatchObject({
        min: SIM_CHAT_TEMPLATE_TOKENS,
        max: SIM_CHAT_TEMPLATE_TOKENS,
      });
    }
  });
});
