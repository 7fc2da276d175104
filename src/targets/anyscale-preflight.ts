import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { ExternalError } from "../errors.js";
import { type CliRunner, execaRunner, INSTALL_HINT } from "./anyscale-cli.js";

/**
 * What must hold before anything is created on Anyscale's behalf: the CLI is installed and
 * answers, and it has credentials. Checked before a run folder exists, so a machine that cannot
 * deploy fails in seconds with what to do, instead of after a run folder and a round of retries.
 */
export interface PreflightReport {
  /** What `anyscale --version` printed (its first line). */
  cliVersion: string;
  /** Where the CLI will take its credentials from. */
  credentials: string;
}

/** `anyscale --version` answers at once; a CLI that takes longer than this is broken, not slow. */
const VERSION_TIMEOUT_MS = 8_000;

export async function anyscalePreflight(
  env: NodeJS.ProcessEnv = process.env,
  runner: CliRunner = execaRunner(undefined, env),
): Promise<PreflightReport> {
  // A missing binary throws (never retried); anything else wrong is said with the CLI's words.
  const result = await runner.run(["--version"], { timeoutMs: VERSION_TIMEOUT_MS });
  const cliVersion = (result.stdout.trim() || result.stderr.trim()).split("\n")[0]?.trim() ?? "";
  if (result.exitCode !== 0 || cliVersion === "") {
    throw new ExternalError(
      `\`anyscale --version\` ${result.timedOut ? "did not answer" : `failed with exit code ${result.exitCode}`}: ${result.stderr.trim().split("\n").at(-1) ?? ""}`,
      { kind: "not_installed", hint: `the Anyscale CLI looks broken; ${INSTALL_HINT}` },
    );
  }
  return { cliVersion, credentials: findCredentials(env) };
}

/** ANYSCALE_CLI_TOKEN wins over the credentials file, as in the CLI (docs/anyscale.md). */
function findCredentials(env: NodeJS.ProcessEnv): string {
  if (env.ANYSCALE_CLI_TOKEN?.trim()) return "ANYSCALE_CLI_TOKEN";
  const file = join(env.HOME ?? homedir(), ".anyscale", "credentials.json");
  if (existsSync(file)) return file;
  throw new ExternalError(
    `the Anyscale CLI has no credentials: ANYSCALE_CLI_TOKEN is not set and ${file} does not exist`,
    {
      kind: "auth",
      hint: "log in with `anyscale login` (install the CLI first with `pip install anyscale`), or set ANYSCALE_CLI_TOKEN",
    },
  );
}
