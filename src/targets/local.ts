/**
 * The `local` target: each deployed service is a simulator child process (its own process
 * group) on a free loopback port, configured from the rendered service config, behaving like an
 * Anyscale service: a name, an id, a URL, a bearer token, states STARTING → RUNNING →
 * TERMINATING → TERMINATED (SYSTEM_FAILURE if the process dies on its own).
 *
 * Services live as long as the orchestrator: the children watch its pid and exit when it is gone
 * (even after a SIGKILL), and it kills them when it exits. So there is nothing for a later
 * `orchestrate teardown` to find, and `status` of a name this process never deployed is undefined.
 */
import { randomBytes } from "node:crypto";
import { resolve } from "node:path";
import { describeError, ExternalError, Interrupted } from "../errors.js";
import { registerSecret } from "../secrets.js";
import { type SimulatorProcess, spawnSimulator } from "../sim/child.js";
import {
  mergeSimConfigInputs,
  parseSimConfig,
  type SimConfigInput,
  simConfigFromEnv,
} from "../sim/config.js";
import type { RuntimeName } from "../sim/runtime-profile.js";
import type { StatsSnapshot } from "../sim/stats.js";
import {
  profileCapacityLayer,
  profileSimLayer,
  readSimProfile,
  runtimeFit,
  type SimProfile,
} from "../twin/profile.js";
import { readLocalServiceSpec } from "./local-config.js";
import {
  type DeployRequest,
  judgeOwnership,
  type ServiceEndpoint,
  type ServiceState,
  type ServiceStatus,
  type Target,
  type TerminateOptions,
} from "./target.js";

export interface LocalTargetOptions {
  /** Where relative `containerfile:` paths resolve (default: the current directory). */
  cwd?: string;
  /**
   * Simulator settings laid over what the service config gives: engine costs, faults … (from a
   * plan or a test). ORCHESTRATE_SIM_CONFIG in `env` lies between the two.
   */
  simOverrides?: SimConfigInput;
  /** Per-service settings laid over simOverrides (e.g. a noise seed of its own per service). */
  serviceSimOverrides?: (serviceName: string) => SimConfigInput | undefined;
  env?: NodeJS.ProcessEnv;
  /**
   * A simulator profile (orchestrate sim calibrate): its costs for each image's runtime replace the
   * runtime switches' built-in ones, and `speedup` runs them that many times faster.
   */
  profile?: { path: string; speedup: number };
  /** Health poll interval. */
  pollIntervalMs?: number;
  /** How long a child may take to listen. */
  startTimeoutMs?: number;
}

interface LocalService {
  name: string;
  id: string;
  state: ServiceState;
  /** What was deployed, to make a repeated deploy of the same config a no-op. */
  fingerprint: string;
  model: string;
  token: string | undefined;
  process: SimulatorProcess | undefined;
  /** The last health answer, or why the service failed. */
  detail: string;
  healthTimer: NodeJS.Timeout | undefined;
}

const ACTIVE: ReadonlySet<ServiceState> = new Set(["STARTING", "RUNNING"]);

export class LocalTarget implements Target {
  readonly kind = "local" as const;
  private readonly services = new Map<string, LocalService>();
  private readonly pollMs: number;
  private profile: Promise<SimProfile> | undefined;

  constructor(private readonly options: LocalTargetOptions = {}) {
    this.pollMs = options.pollIntervalMs ?? 100;
  }

  async deploy(request: DeployRequest, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    // Relative paths resolve against the folder the target runs in, as the anyscale CLI resolves them.
    const configPath = resolve(this.options.cwd ?? process.cwd(), request.configPath);
    const spec = await readLocalServiceSpec(configPath, this.options.cwd);
    const profiled = await this.profileLayers(spec.profile.name);
    const sim = mergeSimConfigInputs(
      profiled?.under,
      spec.sim,
      profiled?.over,
      simConfigFromEnv(this.options.env ?? process.env),
      this.options.simOverrides,
      this.options.serviceSimOverrides?.(request.serviceName),
      { port: 0, host: "127.0.0.1" },
    );
    // Bad settings are the user's to fix: say so here, rather than as a child that failed to start.
    const parsed = parseSimConfig(
      sim,
      `${request.configPath}, the target's overrides and ORCHESTRATE_SIM_CONFIG`,
    );
    const fingerprint = JSON.stringify({ sim, auth: spec.authEnabled });
    const existing = this.services.get(request.serviceName);
    if (existing && ACTIVE.has(existing.state) && existing.fingerprint === fingerprint) return;
    // A changed config replaces the running service, as a rollout would.
    if (existing && ACTIVE.has(existing.state))
      await this.terminate(request.serviceName, Date.now() + 10_000);

    const token = spec.authEnabled ? randomBytes(24).toString("base64url") : undefined;
    registerSecret(token);
    const service: LocalService = {
      name: request.serviceName,
      // A service keeps its id across restarts and rollouts, as an Anyscale service does.
      id: existing?.id ?? `service2_local_${randomBytes(8).toString("hex")}`,
      state: "STARTING",
      fingerprint,
      model: parsed.model,
      token,
      process: undefined,
      detail: "starting",
      healthTimer: undefined,
    };
    this.services.set(request.serviceName, service);
    try {
      service.process = await spawnSimulator(
        { ...sim, token },
        { env: this.options.env, startTimeoutMs: this.options.startTimeoutMs },
      );
    } catch (error) {
      service.state = "SYSTEM_FAILURE";
      service.detail = describeError(error);
      throw new ExternalError(`local service ${request.serviceName} failed to start: ${service.detail}`, {
        kind: "service_failed",
        cause: error,
      });
    }
    void service.process.exited.then(({ code, signal: killedBy }) => this.onExit(service, code, killedBy));
    this.watchHealth(service);
  }

  /**
   * The profile's layers for a runtime: its capacity goes under the service config (which may
   * state its own), its costs over it (they replace the built-in costs of the runtime switches).
   */
  private async profileLayers(
    runtime: RuntimeName,
  ): Promise<{ under: SimConfigInput; over: SimConfigInput } | undefined> {
    const option = this.options.profile;
    if (!option) return undefined;
    this.profile ??= readSimProfile(option.path);
    const fit = runtimeFit(await this.profile, runtime === "oss" ? "oss" : "turbo", option.path);
    return {
      under: profileCapacityLayer(fit),
      over: { ...profileSimLayer(fit, option.speedup), profile: `${runtime} (${option.path})` },
    };
  }

  async status(name: string): Promise<ServiceStatus | undefined> {
    const service = this.services.get(name);
    if (!service) return undefined;
    const status: ServiceStatus = { name, state: service.state, id: service.id };
    if (service.process && service.state !== "TERMINATED") status.queryUrl = service.process.url;
    if (service.token) status.queryAuthToken = service.token;
    return status;
  }

  async waitReady(name: string, deadline: number, signal?: AbortSignal): Promise<ServiceEndpoint> {
    for (;;) {
      if (signal?.aborted) throw new Interrupted(`stopped waiting for local service ${name}`);
      const service = this.services.get(name);
      if (!service) {
        throw new ExternalError(`no local service named ${name} was deployed by this run`, {
          kind: "not_found",
        });
      }
      if (service.state === "RUNNING" && service.process) {
        await this.checkModel(service);
        return { name, url: service.process.url, ...(service.token ? { token: service.token } : {}) };
      }
      if (!ACTIVE.has(service.state)) {
        throw new ExternalError(`local service ${name} is ${service.state}: ${service.detail}`, {
          kind: "service_failed",
        });
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new ExternalError(
          `local service ${name} did not become healthy before the deadline; its last health answer: ${service.detail}`,
          {
            kind: "timeout",
            hint: "a simulator with faults.never_healthy never becomes healthy; otherwise raise the deploy timeout",
          },
        );
      }
      await sleep(Math.min(this.pollMs, left), signal);
    }
  }

  async terminate(
    name: string,
    deadline: number,
    _signal?: AbortSignal,
    options: TerminateOptions = {},
  ): Promise<void> {
    const service = this.services.get(name);
    const ownership = judgeOwnership(await this.status(name), options.owner);
    if (ownership.kind === "not_ours") throw ownership.error;
    if (!service || service.state === "TERMINATED") return;
    service.state = "TERMINATING";
    clearInterval(service.healthTimer);
    const child = service.process;
    if (child && !child.hasExited()) {
      const grace = Math.max(0, Math.min(3_000, deadline - Date.now()));
      // The stop escalates to SIGKILL after the grace period; a process that survives even that
      // (stuck in the kernel) is reported rather than waited for.
      await settlesWithin(child.stop(grace), Math.max(0, deadline - Date.now()) + 1_000);
      if (!child.hasExited()) {
        throw new ExternalError(`local service ${name} (pid ${child.pid}) did not stop before the deadline`, {
          kind: "timeout",
        });
      }
    }
    service.state = "TERMINATED";
    service.detail = "terminated";
  }

  /** The simulator's process id (for diagnostics and tests); undefined when none runs. */
  pidOf(name: string): number | undefined {
    const child = this.services.get(name)?.process;
    return child && !child.hasExited() ? child.pid : undefined;
  }

  /**
   * The simulator's ground truth (`GET /sim/stats`, every finished request paged in): what the
   * server really did, for comparing with what the client measured. Undefined when not running.
   */
  async serverStats(name: string): Promise<StatsSnapshot | undefined> {
    const service = this.services.get(name);
    if (!service?.process || service.state !== "RUNNING") return undefined;
    const headers: Record<string, string> = service.token ? { authorization: `Bearer ${service.token}` } : {};
    let snapshot: StatsSnapshot | undefined;
    let since = 0;
    for (;;) {
      const response = await fetch(`${service.process.url}/sim/stats?since=${since}&limit=10000`, {
        headers,
      });
      if (!response.ok)
        throw new ExternalError(`${name}: /sim/stats answered ${response.status}`, { kind: "bad_response" });
      const page = (await response.json()) as StatsSnapshot;
      if (snapshot) snapshot.requests.push(...page.requests);
      else snapshot = page;
      if (page.requests.length === 0 || page.next_since === since) break;
      since = page.next_since;
    }
    return snapshot;
  }

  /** Terminates every service this target started (for the end of a run, and tests). */
  async terminateAll(deadline = Date.now() + 10_000): Promise<void> {
    await Promise.all([...this.services.keys()].map((name) => this.terminate(name, deadline)));
  }

  private watchHealth(service: LocalService): void {
    const child = service.process!;
    let inFlight = false;
    service.healthTimer = setInterval(async () => {
      if (inFlight || service.state !== "STARTING") return;
      inFlight = true;
      try {
        const response = await fetch(`${child.url}/-/healthz`, { signal: AbortSignal.timeout(2_000) });
        const text = (await response.text()).trim();
        service.detail = `${response.status} ${text}`;
        if (response.ok && service.state === "STARTING") {
          service.state = "RUNNING";
          clearInterval(service.healthTimer);
        }
      } catch (error) {
        service.detail = `health check failed: ${describeError(error)}`;
      } finally {
        inFlight = false;
      }
    }, this.pollMs);
    service.healthTimer.unref();
  }

  private onExit(service: LocalService, code: number | null, signal: NodeJS.Signals | null): void {
    clearInterval(service.healthTimer);
    if (service.state === "TERMINATING" || service.state === "TERMINATED") return;
    service.state = "SYSTEM_FAILURE";
    const tail = service.process?.stderrTail().trim();
    service.detail = `the simulator process exited (${signal ?? `exit code ${code}`})${tail ? `: ${tail}` : ""}`;
  }

  /** Readiness as the pipeline defines it: the API answers and serves the expected model. */
  private async checkModel(service: LocalService): Promise<void> {
    const url = `${service.process!.url}/v1/models`;
    const headers: Record<string, string> = service.token ? { authorization: `Bearer ${service.token}` } : {};
    let ids: string[];
    try {
      const response = await fetch(url, { headers, signal: AbortSignal.timeout(5_000) });
      const body = (await response.json()) as { data?: Array<{ id?: string }> };
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      ids = (body.data ?? []).map((model) => String(model.id));
    } catch (error) {
      throw new ExternalError(
        `local service ${service.name}: GET /v1/models failed: ${describeError(error)}`,
        {
          kind: "bad_response",
        },
      );
    }
    if (!ids.includes(service.model)) {
      throw new ExternalError(
        `local service ${service.name} serves ${ids.join(", ") || "no model"}, not ${service.model}`,
        { kind: "bad_response" },
      );
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Interrupted("interrupted while waiting"));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Waits for `promise` at most `ms`; true when it settled in time. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
