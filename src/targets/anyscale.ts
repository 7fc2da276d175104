import { z } from "zod";
import { ExternalError } from "../errors.js";
import { registerSecret } from "../secrets.js";
import { type CliRunner, DEFAULT_RETRY, type RetryPolicy, runCli } from "./anyscale-cli.js";
import { deployArgs, imageBuildArgs, statusArgs, terminateArgs } from "./anyscale-commands.js";
import { type Clock, systemClock } from "./clock.js";
import type { DeployRequest, ServiceEndpoint, ServiceState, ServiceStatus, Target } from "./target.js";

/**
 * Services on Anyscale, through the `anyscale` CLI, following reference/anyscale.md point by
 * point: deploy is asynchronous; `service wait` does not stop early on failure, so we poll
 * `status --json` and fail fast ourselves; keys whose value is null are absent; terminate can
 * exit 0 without effect, so termination is confirmed by status.
 */

export interface AnyscaleTargetOptions {
  runner: CliRunner;
  /** Folder the CLI runs in: relative paths in configs resolve against it. */
  cwd: string;
  pollIntervalMs: number;
  /** UNHEALTHY often recovers; only a longer spell fails the wait. */
  unhealthyGraceMs: number;
  retry?: RetryPolicy;
  clock?: Clock;
  /** Called with every status read (for snapshots in the run folder) and each retry. */
  onStatus?: (status: ServiceStatus, raw: unknown) => void;
  onRetry?: (message: string) => void;
}

const KNOWN_STATES: readonly ServiceState[] = [
  "STARTING",
  "RUNNING",
  "UPDATING",
  "ROLLING_OUT",
  "ROLLING_BACK",
  "UNHEALTHY",
  "TERMINATING",
  "TERMINATED",
  "UNKNOWN",
  "SYSTEM_FAILURE",
];

const statusJson = z.looseObject({
  name: z.string(),
  id: z.string().optional(),
  state: z.string(),
  query_url: z.string().optional(),
  query_auth_token: z.string().optional(),
});

export class AnyscaleTarget implements Target {
  readonly kind = "anyscale" as const;
  private readonly clock: Clock;
  private readonly retry: RetryPolicy;

  constructor(private readonly options: AnyscaleTargetOptions) {
    this.clock = options.clock ?? systemClock;
    this.retry = options.retry ?? DEFAULT_RETRY;
  }

  /** `anyscale image build` blocks until built and prints the URI; every build is a new version. */
  async buildImage(
    image: { name: string; ray_version: string },
    containerfile: string,
    signal?: AbortSignal,
  ): Promise<string> {
    const args = imageBuildArgs(image, containerfile);
    const { stdout } = await this.cli(args, signal);
    const uris = stdout.match(/anyscale\/image\/[\w.-]+:\d+/g);
    const uri = uris?.at(-1);
    if (!uri) {
      throw new ExternalError(
        `anyscale ${args.join(" ")} succeeded but printed no image URI (anyscale/image/NAME:VERSION)`,
        {
          kind: "bad_response",
        },
      );
    }
    return uri;
  }

  async deploy(request: DeployRequest, signal?: AbortSignal): Promise<void> {
    await this.cli(deployArgs(request.configPath, request.serviceName, request.tags), signal);
  }

  async status(name: string, signal?: AbortSignal): Promise<ServiceStatus | undefined> {
    const args = statusArgs(name);
    try {
      const { stdout } = await this.cli(args, signal);
      const raw = parseJsonObject(stdout, args);
      const parsed = statusJson.safeParse(raw);
      if (!parsed.success) {
        throw new ExternalError(`anyscale ${args.join(" ")} printed JSON without a name and state`, {
          kind: "bad_response",
        });
      }
      const state = KNOWN_STATES.includes(parsed.data.state as ServiceState)
        ? (parsed.data.state as ServiceState)
        : "UNKNOWN";
      const status: ServiceStatus = { name: parsed.data.name, state };
      if (parsed.data.id) status.id = parsed.data.id;
      if (parsed.data.query_url) status.queryUrl = parsed.data.query_url;
      if (parsed.data.query_auth_token) {
        registerSecret(parsed.data.query_auth_token);
        status.queryAuthToken = parsed.data.query_auth_token;
      }
      this.options.onStatus?.(status, raw);
      return status;
    } catch (error) {
      if (error instanceof ExternalError && error.kind === "not_found") return undefined;
      throw error;
    }
  }

  async waitReady(name: string, deadline: number, signal?: AbortSignal): Promise<ServiceEndpoint> {
    let unhealthySince: number | undefined;
    let last: ServiceStatus | undefined;
    for (;;) {
      signal?.throwIfAborted();
      last = await this.status(name, signal);
      const now = this.clock.now();
      if (!last) {
        throw new ExternalError(
          `service ${name} does not exist (deploy was accepted, but the service is gone)`,
          {
            kind: "service_failed",
          },
        );
      }
      switch (last.state) {
        case "RUNNING":
          if (last.queryUrl) {
            const endpoint: ServiceEndpoint = { name, url: last.queryUrl };
            if (last.queryAuthToken) endpoint.token = last.queryAuthToken;
            return endpoint;
          }
          break;
        case "SYSTEM_FAILURE":
          throw new ExternalError(`service ${name} entered SYSTEM_FAILURE (an error on Anyscale's side)`, {
            kind: "service_failed",
            hint: `see \`anyscale service status -n ${name} -v\` and the service's logs in the console`,
          });
        case "TERMINATING":
        case "TERMINATED":
          throw new ExternalError(
            `service ${name} is ${last.state} while we wait for it to start (terminated by someone else?)`,
            {
              kind: "service_failed",
            },
          );
        case "UNHEALTHY":
          unhealthySince ??= now;
          if (now - unhealthySince > this.options.unhealthyGraceMs) {
            throw new ExternalError(
              `service ${name} stayed UNHEALTHY for more than ${seconds(this.options.unhealthyGraceMs)}`,
              {
                kind: "service_failed",
                hint: "the replicas are failing their health checks; see the service's logs in the console",
              },
            );
          }
          break;
        default:
          unhealthySince = undefined;
      }
      if (now >= deadline) {
        throw new ExternalError(
          `service ${name} was not RUNNING by its deadline (last state ${last.state})`,
          {
            kind: "timeout",
            hint: "raise deploy.ready_timeout_s in the plan if the model takes longer to load",
          },
        );
      }
      await this.clock.sleep(Math.min(this.options.pollIntervalMs, Math.max(0, deadline - now)), signal);
    }
  }

  async terminate(name: string, deadline: number, signal?: AbortSignal): Promise<void> {
    try {
      await this.cli(terminateArgs(name), signal);
    } catch (error) {
      if (!(error instanceof ExternalError && error.kind === "not_found")) throw error;
    }
    // Exit 0 proves nothing (newer CLIs only log API errors): watch the state until it is gone.
    let last: ServiceStatus | undefined;
    for (;;) {
      last = await this.status(name, signal);
      if (!last || last.state === "TERMINATED") return;
      const now = this.clock.now();
      if (now >= deadline) {
        throw new ExternalError(
          `service ${name} is still ${last.state} after terminate was accepted; it is still costing money`,
          {
            kind: "timeout",
            hint: `terminate it yourself: anyscale service terminate -n ${name}, then check with anyscale service status -n ${name}`,
          },
        );
      }
      await this.clock.sleep(Math.min(this.options.pollIntervalMs, Math.max(0, deadline - now)), signal);
    }
  }

  /** Sends terminate without waiting for confirmation (a second Ctrl-C). */
  async sendTerminate(name: string, signal?: AbortSignal): Promise<void> {
    await this.cli(terminateArgs(name), signal).catch((error: unknown) => {
      if (!(error instanceof ExternalError && error.kind === "not_found")) throw error;
    });
  }

  private async cli(args: readonly string[], signal?: AbortSignal) {
    return runCli(this.options.runner, args, {
      cwd: this.options.cwd,
      retry: this.retry,
      ...(signal ? { signal } : {}),
      onRetry: (error, attempt) =>
        this.options.onRetry?.(
          `retrying anyscale ${args[0]} ${args[1]} (attempt ${attempt + 1}): ${error.message.split("\n")[0]}`,
        ),
    });
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

/** The CLI prints one JSON object on stdout; tolerate stray lines around it. */
function parseJsonObject(stdout: string, args: readonly string[]): unknown {
  const text = stdout.trim();
  try {
    return JSON.parse(text);
  } catch {
    const start = text.indexOf("{");
    const end = text.lastIndexOf("}");
    if (start >= 0 && end > start) {
      try {
        return JSON.parse(text.slice(start, end + 1));
      } catch {
        // fall through to the error below
      }
    }
    throw new ExternalError(`anyscale ${args.join(" ")} did not print JSON on stdout`, {
      kind: "bad_response",
    });
  }
}
