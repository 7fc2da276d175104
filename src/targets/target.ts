/**
 * Where services run. `anyscale` shells out to the `anyscale` CLI; `local` starts the simulator.
 * The pipeline talks only to this interface, so every step runs the same way on both.
 */

/** States as the Anyscale CLI reports them (reference/anyscale.md); the local target uses a subset. */
export type ServiceState =
  | "STARTING"
  | "RUNNING"
  | "UPDATING"
  | "ROLLING_OUT"
  | "ROLLING_BACK"
  | "UNHEALTHY"
  | "TERMINATING"
  | "TERMINATED"
  | "UNKNOWN"
  | "SYSTEM_FAILURE";

export interface ServiceStatus {
  name: string;
  state: ServiceState;
  id?: string;
  /** Base URL of the OpenAI-compatible API, once the service has one. */
  queryUrl?: string;
  /** Bearer token for queries; absent when auth is off. Register it as a secret before logging. */
  queryAuthToken?: string;
}

/** How to reach a ready service. */
export interface ServiceEndpoint {
  name: string;
  url: string;
  token?: string;
}

export interface DeployRequest {
  /** The service name (already carries the run's prefix and the scale). */
  serviceName: string;
  /** Path of the rendered service config YAML that is deployed. */
  configPath: string;
  /** Tags that let a sweeper find the run's services (`--tag k=v`). */
  tags: Record<string, string>;
}

export interface Target {
  readonly kind: "anyscale" | "local";
  /** Starts (or restarts) a service; returns once the request is accepted, not when it is up. */
  deploy(request: DeployRequest, signal?: AbortSignal): Promise<void>;
  /** Current state, or undefined when no service of that name exists. */
  status(name: string, signal?: AbortSignal): Promise<ServiceStatus | undefined>;
  /**
   * Resolves when the service is RUNNING with a query URL; rejects with an ExternalError as soon
   * as it cannot get there (failure states, or the deadline, an epoch-ms time, passes).
   */
  waitReady(name: string, deadline: number, signal?: AbortSignal): Promise<ServiceEndpoint>;
  /** Terminates and confirms the service is TERMINATED (an exit code alone proves nothing). */
  terminate(name: string, deadline: number, signal?: AbortSignal): Promise<void>;
}
