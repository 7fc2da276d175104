import { ExternalError } from "../errors.js";

/**
 * Where services run. `anyscale` shells out to the `anyscale` CLI; `local` starts the simulator.
 * The pipeline talks only to this interface, so every step runs the same way on both.
 */

/** States as the Anyscale CLI reports them (docs/anyscale.md); the local target uses a subset. */
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
  /** The service's id: stable across restarts and rollouts of one service, new for a new service. */
  id?: string;
  /** The primary version's id: new with every accepted deploy. */
  versionId?: string;
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
  /** The service as observed just before this deploy (absent: there was none). */
  observed?: ServiceStatus;
}

export interface TerminateOptions {
  /** Only the service with this id is ours; another service of the same name is left alone. */
  expectedId?: string;
}

/** A service of the name we use, but with another id: someone else's, never to be touched. */
export class NotOurService extends ExternalError {
  constructor(
    readonly serviceName: string,
    readonly expectedId: string,
    readonly foundId: string,
  ) {
    super(
      `service ${serviceName} is not ours: it has id ${foundId}, this run's was ${expectedId}; left alone`,
      {
        kind: "not_ours",
        hint: "someone deployed a service of the same name after ours was gone; orchestrate does not touch it",
      },
    );
  }
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
  /**
   * Terminates and confirms the service is TERMINATED (an exit code alone proves nothing). With
   * `expectedId`, rejects with NotOurService instead of touching a service with another id.
   */
  terminate(name: string, deadline: number, signal?: AbortSignal, options?: TerminateOptions): Promise<void>;
}
