/**
 * Starts a simulated Ray Serve LLM service in this process: the service model on real timers
 * behind the HTTP server. Tests use it in-process; `main.ts` wraps it as a child process.
 */
import type { AddressInfo } from "node:net";
import { type Clock, monotonicClock } from "../clock.js";
import { ExternalError } from "../errors.js";
import { parseSimConfig, type SimConfig, type SimConfigInput } from "./config.js";
import { FaultPlanner } from "./faults.js";
import { createSimServer, type Health } from "./http-server.js";
import { ServiceModel } from "./service.js";
import { ingressJson, RequestLog, replicaJson, round3, type StatsSnapshot } from "./stats.js";

export interface RunningSimulator {
  /** Base URL, e.g. http://127.0.0.1:8000 (no trailing slash). */
  readonly url: string;
  readonly port: number;
  readonly config: SimConfig;
  /** The same figures as GET /sim/stats. */
  stats(options?: { since?: number; limit?: number }): StatsSnapshot;
  /** Stops listening, drops every open connection and stops the replicas' timers. */
  close(): Promise<void>;
}

/** Accepts a parsed config, or a partial one to validate and complete with defaults. */
export async function startSimulator(config: SimConfig | SimConfigInput = {}): Promise<RunningSimulator> {
  // Parsing is idempotent, so an already-complete config goes through the same checks.
  const full = parseSimConfig(config);
  const clock: Clock = monotonicClock;
  const service = new ServiceModel(full, clock);
  const log = new RequestLog(full.stats_capacity);
  const startedAt = clock.now();
  const health = startupHealth(full, clock, startedAt);

  const snapshot = (since: number, limit: number): StatsSnapshot => {
    const { replicas, ingress } = service.stats();
    const { records, dropped } = log.since(since, limit);
    const sum = (
      key: "tokensGenerated" | "prefillTokens" | "cachedPromptTokens" | "busyMs" | "running" | "waiting",
    ) => replicas.reduce((total, replica) => total + replica[key], 0);
    const counts = log.counts();
    return {
      model: full.model,
      profile: full.profile,
      seed: full.seed,
      started_at_ms: clock.toEpochMs(startedAt),
      now_ms: clock.toEpochMs(clock.now()),
      healthy: health.healthy(),
      config: {
        replicas: full.replicas,
        ingress_replicas: full.ingress_replicas,
        engine: full.engine,
        ingress: full.ingress,
        faults: full.faults,
      },
      total: {
        requests: log.finished,
        ...counts,
        in_flight: replicas.reduce((total, replica) => total + replica.ongoing, 0),
        tokens_generated: sum("tokensGenerated"),
        tokens_delivered: log.tokensDelivered,
        prefill_tokens: sum("prefillTokens"),
        cached_prompt_tokens: sum("cachedPromptTokens"),
        busy_ms: round3(sum("busyMs")),
        running: sum("running"),
        waiting: sum("waiting"),
        ingress_chunks: ingress.reduce((total, replica) => total + replica.chunks, 0),
      },
      replicas: replicas.map(replicaJson),
      ingress: ingress.map(ingressJson),
      requests: records,
      next_since: records.length > 0 ? records[records.length - 1]!.index : since,
      dropped,
    };
  };

  const server = createSimServer({
    config: full,
    service,
    clock,
    log,
    health,
    faults: new FaultPlanner(full.faults, full.seed),
    snapshot,
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        new ExternalError(`the simulator cannot listen on ${full.host}:${full.port}: ${error.message}`, {
          kind: "unknown",
          hint: error.code === "EADDRINUSE" ? "choose another --port, or 0 for any free port" : undefined,
          cause: error,
        }),
      ),
    );
    server.listen(full.port, full.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${full.host.includes(":") ? `[${full.host}]` : full.host}:${port}`,
    port,
    config: full,
    stats: (options = {}) => snapshot(options.since ?? 0, options.limit ?? Number.POSITIVE_INFINITY),
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        service.close();
      });
      return closing;
    },
  };
}

/** Health as the startup faults shape it: never, or only after the start-up delay. */
function startupHealth(config: SimConfig, clock: Clock, startedAt: number): Health {
  const { never_healthy, startup_delay_ms } = config.faults;
  return {
    healthy: () => !never_healthy && clock.now() - startedAt >= startup_delay_ms,
    reason: () =>
      never_healthy
        ? "Service unavailable: the simulator was told never to become healthy (faults.never_healthy)."
        : `Service unavailable: starting up, ready in ${Math.ceil(startup_delay_ms - (clock.now() - startedAt))} ms (faults.startup_delay_ms).`,
  };
}
