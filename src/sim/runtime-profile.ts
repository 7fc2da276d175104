/**
 * What an image's runtime switches change in the simulator. The switches are the `ENV` lines of
 * the image (they are read when the container and Serve start, so they must be baked in); they
 * change the request path between the client and the LLM replicas, which the simulator models as
 * the ingress replicas' per-request overhead and per-chunk forwarding cost.
 *
 * The model, stated so a report built on it can be explained:
 *
 * - Open-source Ray Serve (`ANYSCALE_DISABLE_OPTIMIZED_RAY=1`), and RayTurbo without HAProxy:
 *   every request and every streamed chunk crosses two Python hops, the Serve HTTP proxy and the
 *   ingress replica: 4 ms of work per request, 0.4 ms per chunk (2,500 chunks/s per ingress replica).
 *   RayTurbo's other optimisations are not modelled, so without HAProxy it costs the same.
 * - RayTurbo with `ANYSCALE_RAY_SERVE_ENABLE_HA_PROXY=1`: HAProxy hands connections straight to the
 *   ingress replicas (direct ingress), so the Python proxy hop disappears: 60% less work per
 *   request and half the work per chunk. Ignored when optimised Ray is disabled (it is a
 *   RayTurbo feature).
 * - `RAY_SERVE_THROUGHPUT_OPTIMIZED=1`: user code and the router run on the replica's main event
 *   loop and request-path logs are buffered: a quarter less work per request and per chunk.
 *
 * For the two images of the seed benchmark this gives:
 *   rayoss-251   (DISABLE_OPTIMIZED_RAY + THROUGHPUT_OPTIMIZED): 3.0 ms/request, 0.30 ms/chunk
 *   rayturbo-251 (HA_PROXY + THROUGHPUT_OPTIMIZED):            1.2 ms/request, 0.15 ms/chunk
 * so Turbo answers the first token sooner and its ingress forwards twice the chunks: with the
 * ingress at 2 replicas per LLM replica, the OSS image's ingress saturates near the engine's top
 * speed, while Turbo's does not. `ANYSCALE_RAY_SERVE_DIRECT_INGRESS_MIN_DRAINING_PERIOD_S` only
 * matters when ingress replicas are removed, which a fixed-size benchmark never does.
 */
import type { IngressConfig } from "./config.js";

export type RuntimeName = "oss" | "turbo" | "turbo-haproxy";

export interface RuntimeProfile {
  name: RuntimeName;
  /** The ingress costs this runtime implies. */
  ingress: Pick<IngressConfig, "request_overhead_ms" | "chunk_cost_ms">;
  /** One line per switch that was applied or ignored, for logs and the report. */
  notes: string[];
}

const TWO_PYTHON_HOPS = { request_overhead_ms: 4, chunk_cost_ms: 0.4 };
const DIRECT_INGRESS = { request: 0.4, chunk: 0.5 };
const THROUGHPUT_OPTIMIZED = 0.75;

export const RUNTIME_SWITCHES = {
  disableOptimizedRay: "ANYSCALE_DISABLE_OPTIMIZED_RAY",
  haProxy: "ANYSCALE_RAY_SERVE_ENABLE_HA_PROXY",
  throughputOptimized: "RAY_SERVE_THROUGHPUT_OPTIMIZED",
} as const;

/** The environment of the seed benchmark's two images, for `orchestrate sim --profile`. */
export const SEED_IMAGE_ENV: Record<"oss" | "turbo", Record<string, string>> = {
  oss: { ANYSCALE_DISABLE_OPTIMIZED_RAY: "1", RAY_SERVE_THROUGHPUT_OPTIMIZED: "1" },
  turbo: {
    ANYSCALE_RAY_SERVE_ENABLE_HA_PROXY: "1",
    RAY_SERVE_THROUGHPUT_OPTIMIZED: "1",
    ANYSCALE_RAY_SERVE_DIRECT_INGRESS_MIN_DRAINING_PERIOD_S: "90",
  },
};

export function runtimeProfile(env: Readonly<Record<string, string>>): RuntimeProfile {
  const notes: string[] = [];
  const on = (name: string) => isTruthy(env[name]);
  let request = TWO_PYTHON_HOPS.request_overhead_ms;
  let chunk = TWO_PYTHON_HOPS.chunk_cost_ms;
  let name: RuntimeName;
  if (on(RUNTIME_SWITCHES.disableOptimizedRay)) {
    name = "oss";
    notes.push(`${RUNTIME_SWITCHES.disableOptimizedRay}=1: open-source Ray Serve (proxy + ingress hops)`);
    if (on(RUNTIME_SWITCHES.haProxy)) {
      notes.push(`${RUNTIME_SWITCHES.haProxy}=1 ignored: HAProxy direct ingress is a RayTurbo feature`);
    }
  } else if (on(RUNTIME_SWITCHES.haProxy)) {
    name = "turbo-haproxy";
    request *= DIRECT_INGRESS.request;
    chunk *= DIRECT_INGRESS.chunk;
    notes.push(`${RUNTIME_SWITCHES.haProxy}=1: HAProxy direct ingress, no Serve proxy hop`);
  } else {
    name = "turbo";
    notes.push("RayTurbo runtime without HAProxy: same request path as open-source Ray in this model");
  }
  if (on(RUNTIME_SWITCHES.throughputOptimized)) {
    request *= THROUGHPUT_OPTIMIZED;
    chunk *= THROUGHPUT_OPTIMIZED;
    notes.push(`${RUNTIME_SWITCHES.throughputOptimized}=1: router on the main loop, buffered request logs`);
  }
  return { name, ingress: { request_overhead_ms: round(request), chunk_cost_ms: round(chunk) }, notes };
}

function isTruthy(value: string | undefined): boolean {
  return value !== undefined && /^(1|true|yes|on)$/i.test(value.trim());
}

function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
