import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { ExternalError, UserError } from "../errors.js";
import { type CliRunner, execaRunner, INSTALL_HINT } from "./anyscale-cli.js";

/**
 * What must hold before anything is created on Anyscale's behalf: the CLI is installed, answers,
 * is new enough for the features orchestrate uses, and has credentials. Checked before a run
 * folder exists, so a machine that cannot deploy fails in seconds with what to do, instead of
 * after images are built. Each is an environment problem the user fixes: exit 2.
 */
export interface PreflightReport {
  /** What `anyscale --version` printed (its first line). */
  cliVersion: string;
  /** Where the CLI will take its credentials from. */
  credentials: string;
}

export interface PreflightOptions {
  /** Skip the version floor (`--allow-cli-version`), for someone who knows their CLI can do it. */
  allowCliVersion?: boolean;
}

/**
 * The oldest CLI that has everything a run uses: `tags:` in the service config and `deploy --tag`,
 * `image build -r`, and `--cloud/--project` on `service status`. All arrived in 0.26; under 0.24.x
 * a config with `tags:` fails only at deploy (a Python TypeError), after images were built.
 */
export const MIN_CLI_VERSION = "0.26.0";

/** `anyscale --version` answers at once; a CLI that takes longer than this is broken, not slow. */
const VERSION_TIMEOUT_MS = 8_000;

export async function anyscalePreflight(
  env: NodeJS.ProcessEnv = process.env,
  runner: CliRunner = execaRunner(undefined, env),
  options: PreflightOptions = {},
): Promise<PreflightReport> {
  const cliVersion = await readCliVersion(runner);
  if (!options.allowCliVersion) checkVersionFloor(cliVersion);
  return { cliVersion, credentials: findCredentials(env) };
}

async function readCliVersion(runner: CliRunner): Promise<string> {
  let result: Awaited<ReturnType<CliRunner["run"]>>;
  try {
    result = await runner.run(["--version"], { timeoutMs: VERSION_TIMEOUT_MS });
  } catch (error) {
    if (error instanceof ExternalError && error.kind === "not_installed")
      throw new UserError(error.message, { hint: INSTALL_HINT, cause: error });
    throw error;
  }
  // The bare version on stdout; a newer CLI may add a warning about a newer release on stderr.
  const cliVersion = (result.stdout.trim() || result.stderr.trim()).split("\n")[0]?.trim() ?? "";
  if (result.exitCode !== 0 || cliVersion === "") {
    throw new UserError(
      `\`anyscale --version\` ${result.timedOut ? "did not answer" : `failed with exit code ${result.exitCode}`}: ${result.stderr.trim().split("\n").at(-1) ?? ""}`,
      { hint: `the Anyscale CLI looks broken; ${INSTALL_HINT}` },
    );
  }
  return cliVersion;
}

function checkVersionFloor(printed: string): void {
  const version = printed.match(/\b\d+\.\d+\.\d+\b/)?.[0];
  const upgrade = `upgrade with \`pip install -U 'anyscale>=${MIN_CLI_VERSION}'\`, or pass --allow-cli-version if you know this CLI has what orchestrate uses`;
  if (!version) {
    throw new UserError(`could not read a version in what \`anyscale --version\` printed: ${printed}`, {
      hint: upgrade,
    });
  }
  if (compareVersions(version, MIN_CLI_VERSION) < 0) {
    throw new UserError(
      `the Anyscale CLI is version ${version}; orchestrate needs ${MIN_CLI_VERSION} or newer (tags on services, \`image build -r\`, and \`service status --cloud/--project\` arrived in 0.26)`,
      { hint: upgrade },
    );
  }
}

function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < 3; i++) {
    const diff = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

/** ANYSCALE_CLI_TOKEN wins over the credentials file, as in the CLI (docs/anyscale.md). */
function findCredentials(env: NodeJS.ProcessEnv): string {
  if (env.ANYSCALE_CLI_TOKEN?.trim()) return "ANYSCALE_CLI_TOKEN";
  const file = join(env.HOME ?? homedir(), ".anyscale", "credentials.json");
  if (existsSync(file)) return file;
  throw new UserError(
    `the Anyscale CLI has no credentials: ANYSCALE_CLI_TOKEN is not set and ${file} does not exist`,
    {
      hint: "log in with `anyscale login` (install the CLI first with `pip install anyscale`), or set ANYSCALE_CLI_TOKEN",
    },
  );
}
