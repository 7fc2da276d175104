import { z } from "zod";
import { type Clock, wallClock } from "../clock.js";
import { ExternalError } from "../errors.js";
import { cliCommand } from "../invocation.js";
import { registerSecret } from "../secrets.js";
import {
  type CliResult,
  type CliRunner,
  DEFAULT_CLI_TIMEOUT_MS,
  DEFAULT_RETRY,
  type RetryPolicy,
  runCli,
} from "./anyscale-cli.js";
import {
  deployArgs,
  imageBuildArgs,
  type ServiceScope,
  statusArgs,
  terminateArgs,
} from "./anyscale-commands.js";
import { saysServiceAbsent } from "./anyscale-failures.js";
import {
  type DeployRequest,
  judgeOwnership,
  type ServiceEndpoint,
  type ServiceIdentity,
  type ServiceState,
  type ServiceStatus,
  type Target,
  type TerminateOptions,
} from "./target.js";

/**
 * Services on Anyscale, through the `anyscale` CLI, following docs/anyscale.md point by point:
 * deploy is asynchronous; `service wait` does not stop early on failure, so we poll
 * `status --json` and fail fast ourselves; keys whose value is null are absent; terminate can
 * exit 0 without effect, so it is re-sent until status confirms TERMINATED; a service is ours
 * only while its id and version are the ones we recorded (judgeOwnership), and it is terminated
 * by id; names are looked up in the plan's cloud and project.
 */

export interface AnyscaleTargetOptions {
  runner: CliRunner;
  /** Folder the CLI runs in: relative paths in configs resolve against it. */
  cwd: string;
  /** The plan's cloud and project: every name lookup is confined to them. */
  scope?: ServiceScope;
  pollIntervalMs: number;
  /** UNHEALTHY often recovers; only a longer spell fails the wait. */
  unhealthyGraceMs: number;
  retry?: RetryPolicy;
  /** Every CLI call is killed after this long, and retried as a passing failure. */
  cliTimeoutMs?: number;
  /**
   * `image build`, and a deploy of a `containerfile:` config, block until the image is built,
   * which takes minutes: they get this instead (at least cliTimeoutMs).
   */
  buildTimeoutMs?: number;
  /** While a service is not TERMINATED, terminate is sent again every this many polls. */
  terminateResendPolls?: number;
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
  primary_version: z.looseObject({ id: z.string().optional() }).optional(),
  project: z.string().optional(),
});

const DEFAULT_RESEND_POLLS = 3;
/** After a second Ctrl-C, the look and the terminate request get this long together. */
const URGENT_TERMINATE_MS = 10_000;

export class AnyscaleTarget implements Target {
  readonly kind = "anyscale" as const;
  private readonly clock: Clock;
  private readonly retry: RetryPolicy;

  constructor(private readonly options: AnyscaleTargetOptions) {
    this.clock = options.clock ?? wallClock;
    this.retry = options.retry ?? DEFAULT_RETRY;
  }

  /**
   * `anyscale image build` blocks until built and prints the URI; every build is a new version.
   * The contract does not say which stream the URI goes to, so stdout is read first, then stderr.
   */
  async buildImage(
    image: { name: string; ray_version: string },
    containerfile: string,
    signal?: AbortSignal,
  ): Promise<string> {
    const args = imageBuildArgs(image, containerfile);
    const { stdout, stderr } = await this.cli(args, { signal, timeoutMs: this.buildTimeoutMs() });
    const uri = lastImageUri(stdout) ?? lastImageUri(stderr);
    if (!uri) {
      throw new ExternalError(
        `anyscale ${args.join(" ")} succeeded but printed no image URI (anyscale/image/NAME:VERSION)`,
        { kind: "bad_response" },
      );
    }
    return uri;
  }

  /**
   * A deploy is not idempotent: a call that failed on the way back (a reset connection, a
   * timeout) may have been accepted. Before sending it again, status tells whether it was: the
   * service now exists, or has a new primary version, where before it did not.
   *
   * A `containerfile:` deploy builds the image inside the call and blocks until it is built: it
   * gets the build's time limit, and is never sent again after an unknown outcome, because a
   * second deploy while the first one's build still runs starts another build (only finished
   * builds are reused).
   */
  async deploy(request: DeployRequest, signal?: AbortSignal): Promise<void> {
    const args = deployArgs(request.configPath, request.serviceName, request.tags);
    const acceptedDespite = () => this.deployWasAccepted(request, signal);
    if (!request.buildsImage) {
      await this.cli(args, { signal, acceptedDespite });
      return;
    }
    const timeoutMs = this.buildTimeoutMs();
    try {
      await this.cli(args, { signal, timeoutMs, acceptedDespite, retry: { ...this.retry, retries: 0 } });
    } catch (error) {
      if (error instanceof ExternalError && error.kind === "transient")
        throw buildMayStillRun(request.serviceName, error, timeoutMs);
      throw error;
    }
  }

  /** After a failed deploy call: the service now shows a deploy that the one before it did not. */
  private async deployWasAccepted(request: DeployRequest, signal?: AbortSignal): Promise<boolean> {
    const before = request.observed;
    const now = await this.status(request.serviceName, signal).catch(() => undefined);
    if (!now || now.state === "TERMINATED") return false;
    const accepted = !before || before.state === "TERMINATED" || now.versionId !== before.versionId;
    if (accepted)
      this.options.onRetry?.(
        `anyscale service deploy failed on the way back, but ${request.serviceName} is ${now.state}: the deploy was accepted; not sending it again`,
      );
    return accepted;
  }

  private buildTimeoutMs(): number {
    return Math.max(this.options.buildTimeoutMs ?? 0, this.options.cliTimeoutMs ?? DEFAULT_CLI_TIMEOUT_MS);
  }

  async status(name: string, signal?: AbortSignal, deadline?: number): Promise<ServiceStatus | undefined> {
    const args = statusArgs(name, this.options.scope);
    let result: CliResult;
    try {
      result = await this.cli(args, { signal, deadline });
    } catch (error) {
      const failed = (error as { result?: CliResult }).result;
      if (failed && saysServiceAbsent(failed, name)) return undefined;
      throw error;
    }
    const raw = parseJsonObject(result.stdout, args);
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
    if (parsed.data.primary_version?.id) status.versionId = parsed.data.primary_version.id;
    if (parsed.data.project) status.project = parsed.data.project;
    if (parsed.data.query_url) status.queryUrl = parsed.data.query_url;
    if (parsed.data.query_auth_token) {
      registerSecret(parsed.data.query_auth_token);
      status.queryAuthToken = parsed.data.query_auth_token;
    }
    this.options.onStatus?.(status, raw);
    return status;
  }

  async waitReady(name: string, deadline: number, signal?: AbortSignal): Promise<ServiceEndpoint> {
    let unhealthySince: number | undefined;
    let last: ServiceStatus | undefined;
    for (;;) {
      signal?.throwIfAborted();
      last = await this.status(name, signal, deadline);
      const now = this.clock.now();
      if (!last) {
        throw new ExternalError(
          `service ${name} does not exist (deploy was accepted, but the service is gone)`,
          { kind: "service_failed" },
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
            { kind: "service_failed" },
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

  /**
   * Terminates and confirms. Exit 0 proves nothing (newer CLIs only log API errors), so while the
   * service is not TERMINATED, terminate is sent again every few polls until the deadline. With
   * `owner`, a service of this name that is not that one is someone else's: it is left alone.
   * Terminate goes by the id status reported, never by name.
   */
  async terminate(
    name: string,
    deadline: number,
    signal?: AbortSignal,
    options: TerminateOptions = {},
  ): Promise<void> {
    const resendEvery = Math.max(1, this.options.terminateResendPolls ?? DEFAULT_RESEND_POLLS);
    let polls = 0;
    let sent = 0;
    for (;;) {
      const last = await this.ownedStatus(name, options.owner, signal, deadline);
      if (!last || last.state === "TERMINATED") return;
      if (polls % resendEvery === 0) {
        await this.requestTerminate(last, signal, deadline);
        sent += 1;
      }
      polls += 1;
      const now = this.clock.now();
      if (now >= deadline) {
        const by = last.id ? `--service-id ${last.id}` : `-n ${name}`;
        throw new ExternalError(
          `service ${name} is still ${last.state} after ${sent} terminate ${sent === 1 ? "request" : "requests"}; it is still costing money`,
          {
            kind: "timeout",
            hint: `terminate it yourself: anyscale service terminate ${by}, then check with ${["anyscale", ...statusArgs(name, this.options.scope)].join(" ")}`,
          },
        );
      }
      await this.clock.sleep(Math.min(this.options.pollIntervalMs, Math.max(0, deadline - now)), signal);
    }
  }

  /**
   * Sends terminate without waiting for confirmation (a second Ctrl-C): one look first (for the
   * id to terminate by, and to leave alone what is not ours), bounded to a few seconds, since the
   * user asked not to wait.
   */
  async sendTerminate(name: string, options: { owner?: ServiceIdentity } = {}): Promise<void> {
    const deadline = this.clock.now() + URGENT_TERMINATE_MS;
    const now = await this.ownedStatus(name, options.owner, undefined, deadline);
    if (!now || now.state === "TERMINATED") return;
    await this.requestTerminate(now, undefined, deadline);
  }

  /** The service under this name, provided it is `owner`; rejects with NotOurService otherwise. */
  private async ownedStatus(
    name: string,
    owner: ServiceIdentity | undefined,
    signal: AbortSignal | undefined,
    deadline: number,
  ): Promise<ServiceStatus | undefined> {
    const ownership = judgeOwnership(await this.status(name, signal, deadline), owner);
    if (ownership.kind === "not_ours") throw ownership.error;
    return ownership.kind === "ours" ? ownership.status : undefined;
  }

  /** One terminate request; a "not found" that names the service means it is gone already. */
  private async requestTerminate(
    service: ServiceStatus,
    signal?: AbortSignal,
    deadline?: number,
  ): Promise<void> {
    try {
      await this.cli(terminateArgs(service), { signal, deadline });
    } catch (error) {
      const failed = (error as { result?: CliResult }).result;
      const identifiers = service.id ? [service.name, service.id] : [service.name];
      if (failed && saysServiceAbsent(failed, ...identifiers)) return;
      throw error;
    }
  }

  private async cli(
    args: readonly string[],
    options: {
      signal?: AbortSignal | undefined;
      deadline?: number | undefined;
      timeoutMs?: number;
      retry?: RetryPolicy;
      acceptedDespite?: (error: ExternalError) => Promise<boolean>;
    },
  ) {
    return runCli(this.options.runner, args, {
      cwd: this.options.cwd,
      retry: options.retry ?? this.retry,
      timeoutMs: options.timeoutMs ?? this.options.cliTimeoutMs ?? DEFAULT_CLI_TIMEOUT_MS,
      now: () => this.clock.now(),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.deadline !== undefined ? { deadline: options.deadline } : {}),
      ...(options.acceptedDespite ? { acceptedDespite: options.acceptedDespite } : {}),
      onRetry: (error, attempt) =>
        this.options.onRetry?.(
          `retrying anyscale ${args[0]} ${args[1]} (attempt ${attempt + 1}): ${error.message
            .split("\n")
            .slice(-1)[0]
            ?.replace(/^\s*\|\s*/, "")}`,
        ),
    });
  }
}

/** A containerfile deploy that ended without an answer: why it is not sent again, and what to do. */
function buildMayStillRun(name: string, error: ExternalError, timeoutMs: number): ExternalError {
  const cutOff = (error as { result?: CliResult }).result?.timedOut === true;
  const what = cutOff ? `did not finish within ${seconds(timeoutMs)}` : "failed with a passing error";
  return new ExternalError(
    `the deploy of ${name}, which builds its image first, ${what}; its build may still be running on Anyscale, so the deploy is not sent again (that would start another build)\n${error.message}`,
    {
      kind: cutOff ? "timeout" : "transient",
      hint: cutOff
        ? `raise deploy.ready_timeout_s (the limit of a build) or use build: image-build, which builds once per image; then \`${cliCommand("resume", "RUN_DIR")}\` (a finished build is reused)`
        : `once the build has finished, \`${cliCommand("resume", "RUN_DIR")}\` sends the deploy again and reuses the finished build`,
    },
  );
}

function lastImageUri(text: string): string | undefined {
  return text.match(/anyscale\/image\/[\w.-]+:\d+/g)?.at(-1);
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
