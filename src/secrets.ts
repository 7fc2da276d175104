/**
 * Secrets must never reach results, logs or rendered files. Every value we learn to be secret (API
 * keys from the environment, service query tokens read from `anyscale service status`) is
 * registered here, and everything we print or persist passes through `redact`.
 */

const SECRET_ENV_VARS = ["OPENAI_API_KEY", "ANYSCALE_CLI_TOKEN"] as const;
const MIN_SECRET_LENGTH = 6; // shorter strings would redact ordinary words and numbers

const secrets = new Set<string>();

export function registerSecret(value: string | undefined | null): void {
  if (value && value.length >= MIN_SECRET_LENGTH) secrets.add(value);
}

export function registerEnvironmentSecrets(env: NodeJS.ProcessEnv = process.env): void {
  for (const name of SECRET_ENV_VARS) registerSecret(env[name]);
}

export function redact(text: string): string {
  let out = text;
  for (const secret of secrets) {
    if (out.includes(secret)) out = out.split(secret).join("«redacted»");
  }
  // Bearer tokens we were never told about still get masked in anything that looks like a header.
  return out.replace(/(Bearer\s+)[A-Za-z0-9._~+/=-]{6,}/g, "$1«redacted»");
}

/** Deep copy of a JSON-like value with every secret string and token-named key masked. */
export function redactValue<T>(value: T): T {
  return JSON.parse(
    JSON.stringify(value, (key, v: unknown) => {
      if (typeof v !== "string") return v;
      if (/(^|_)(token|api_key|apikey|secret|password)$/i.test(key)) return "«redacted»";
      return redact(v);
    }),
  ) as T;
}

/** For tests: forget everything registered. */
export function clearSecrets(): void {
  secrets.clear();
}
