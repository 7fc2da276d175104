import { afterEach, describe, expect, it } from "vitest";
import {
  clearSecrets,
  redact,
  redactValue,
  registerEnvironmentSecrets,
  registerSecret,
} from "../../src/secrets.js";

afterEach(() => clearSecrets());

describe("redact", () => {
  it("masks registered secrets wherever they appear", () => {
    registerSecret("sk-live-123456");
    expect(redact("key=sk-live-123456 and again sk-live-123456")).toBe("key=«redacted» and again «redacted»");
  });

  it("masks secrets taken from the environment", () => {
    registerEnvironmentSecrets({
      OPENAI_API_KEY: "openai-secret-value",
      ANYSCALE_CLI_TOKEN: "aph0_token_value",
    });
    expect(redact("openai-secret-value / aph0_token_value")).toBe("«redacted» / «redacted»");
  });

  it("masks bearer tokens it was never told about", () => {
    expect(redact("Authorization: Bearer abcdef123456")).toBe("Authorization: Bearer «redacted»");
  });

  it("does not register strings too short to be secrets", () => {
    registerSecret("abc");
    expect(redact("abc")).toBe("abc");
  });

  it("masks token-named keys in structured values", () => {
    const value = redactValue({
      query_url: "https://x",
      query_auth_token: "t0k3n-value",
      nested: { api_key: "k" },
    });
    expect(value).toEqual({
      query_url: "https://x",
      query_auth_token: "«redacted»",
      nested: { api_key: "«redacted»" },
    });
  });
});
