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
  /** The project the service is in, where the target knows it (for messages). */
  project?: string;
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
  /**
   * The config names a `containerfile:`: the deploy builds the image first and blocks until the
   * build is done (minutes), and a deploy sent again while a build runs starts another build.
   */
  buildsImage?: boolean;
}

/**
 * What a run recorded about a service it deployed: the service's id, and the id of the version its
 * deploy created. A redeploy of a TERMINATED name restarts the same service (same id, new
 * version), so the id alone cannot tell our service from one deployed later under our name.
 */
export interface ServiceIdentity {
  id: string;
  versionId?: string;
}

export interface TerminateOptions {
  /** Only the service with this identity is ours; anything else under the name is left alone. */
  owner?: ServiceIdentity;
}

/** A service of the name we use that is not the one we deployed: someone else's, never to be touched. */
export class NotOurService extends ExternalError {
  readonly foundId: string;
  readonly foundVersionId: string | undefined;

  constructor(
    readonly serviceName: string,
    readonly expected: ServiceIdentity,
    found: { id: string; versionId?: string | undefined },
  ) {
    const sameService = found.id === expected.id;
    super(
      sameService
        ? `service ${serviceName} is not ours: it was deployed again after ours (version ${found.versionId}, this run's was ${expected.versionId}); left alone`
        : `service ${serviceName} is not ours: it has id ${found.id}, this run's was ${expected.id}; left alone`,
      {
        kind: "not_ours",
        hint: sameService
          ? "someone deployed this name again after ours was terminated, which restarts the same service with a new version; orchestrate does not touch it"
          : "someone deployed a service of the same name after ours was gone; orchestrate does not touch it",
      },
    );
    this.foundId = found.id;
    this.foundVersionId = found.versionId;
  }
}

/** What a service name stands for now, judged against what a run recorded. */
export type Ownership =
  | { kind: "absent" }
  | { kind: "ours"; status: ServiceStatus }
  | { kind: "not_ours"; error: NotOurService };

/**
 * The one rule for "is this still the service we deployed?": its id and its primary version must
 * be the ones recorded. Either is compared only where both sides know it: the CLI leaves out a
 * TERMINATED service's primary version, and a run that crashed between its deploy and reading the
 * id has nothing recorded (its service is then recognised by name alone). Our own service, once
 * TERMINATED, is ours whatever its version: there is nothing left in it to protect.
 */
export function judgeOwnership(
  status: ServiceStatus | undefined,
  recorded: ServiceIdentity | undefined,
): Ownership {
  if (!status) return { kind: "absent" };
  if (!recorded) return { kind: "ours", status };
  const otherService = status.id !== undefined && status.id !== recorded.id;
  const otherVersion =
    !otherService &&
    status.state !== "TERMINATED" &&
    recorded.versionId !== undefined &&
    status.versionId !== undefined &&
    status.versionId !== recorded.versionId;
  if (otherService || otherVersion) {
    return {
      kind: "not_ours",
      error: new NotOurService(status.name, recorded, {
        id: status.id ?? recorded.id,
        versionId: status.versionId,
      }),
    };
  }
  return { kind: "ours", status };
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
   * `owner`, rejects with NotOurService instead of touching a service that is not that one.
   */
  terminate(name: string, deadline: number, signal?: AbortSignal, options?: TerminateOptions): Promise<void>;
}
