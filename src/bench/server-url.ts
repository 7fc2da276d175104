import { nonEmptyVariable, serverBaseUrl } from "../inputs.js";

/** Where `bench` and `smoke` send requests when neither --base-url nor OPENAI_API_URL says. */
export const DEFAULT_BASE_URL = "http://127.0.0.1:8000";

/**
 * The server `bench` and `smoke` measure: --base-url, else $OPENAI_API_URL, else the default.
 * Checked here, where both commands read it, so a mistake names the flag or the variable it
 * came from.
 */
export function serverUrlFrom(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  if (flag !== undefined) return serverBaseUrl(flag, "--base-url");
  const fromEnv = nonEmptyVariable("OPENAI_API_URL", env, `the server's base URL, e.g. ${DEFAULT_BASE_URL}`);
  return fromEnv === undefined ? DEFAULT_BASE_URL : serverBaseUrl(fromEnv, "OPENAI_API_URL");
}
