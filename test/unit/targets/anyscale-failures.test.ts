import { describe, expect, it } from "vitest";
import { classifyFailure, saysServiceAbsent, subjectsOf } from "../../../src/targets/anyscale-failures.js";

/**
 * Every message the reference quotes from the anyscale 0.26.81 source, and mixed ones, through
 * the classifier: a message is sorted by what it is, and a service's own name never decides.
 */
const failed = (stderr: string, exitCode = 1) => ({ stdout: "", stderr, exitCode });
const traceback = (last: string) =>
  `Traceback (most recent call last):\n  File "/usr/lib/python3/site-packages/anyscale/commands/service_commands.py", line 412, in status\n    raise\n${last}`;

const statusArgs = (name: string) => ["service", "status", "-n", name, "--json"];
const kindFor = (args: string[], stderr: string, exitCode = 1) =>
  classifyFailure(failed(stderr, exitCode), subjectsOf(args));

describe("the real CLI's messages", () => {
  it("status of an unknown name (a traceback ending in RuntimeError) is a missing service", () => {
    const stderr = traceback("RuntimeError: Service with name 'svc-x1' was not found.");
    expect(kindFor(statusArgs("svc-x1"), stderr)).toBe("not_found");
    expect(saysServiceAbsent(failed(stderr), "svc-x1")).toBe(true);
  });

  it("terminate of an unknown name is a missing service", () => {
    const stderr =
      "Error: No service with name 'svc-x1' was found. Please verify that this service exists and you have access to it.";
    expect(kindFor(["service", "terminate", "-n", "svc-x1"], stderr)).toBe("not_found");
    expect(saysServiceAbsent(failed(stderr), "svc-x1")).toBe(true);
  });

  it("a name held by several projects is a refusal to act, never 'not found' or transient", () => {
    const stderr =
      "Error: There are multiple services with name 'svc-x1'. Please filter using --project-id or specify the --service-id instead. Services found: \nservice2_a  svc-x1  default\nservice2_b  svc-x1  other";
    expect(kindFor(["service", "terminate", "-n", "svc-x1"], stderr)).toBe("validation");
    expect(saysServiceAbsent(failed(stderr), "svc-x1")).toBe(false);
  });

  it("an unknown YAML key (0.24.x and `tags`) is bad input", () => {
    const stderr = traceback("TypeError: __init__() got an unexpected keyword argument 'tags'");
    expect(kindFor(["service", "deploy", "-f", "configs/x.yaml", "-n", "x"], stderr)).toBe("validation");
  });

  it("click usage errors exit 2 and are bad input, whatever they mention", () => {
    const usage = (error: string) =>
      `Usage: anyscale service status [OPTIONS]\nTry 'anyscale service status -h' for help.\n\nError: ${error}`;
    expect(kindFor(statusArgs("x"), usage("No such option: --project"), 2)).toBe("validation");
    expect(
      kindFor(statusArgs("x"), usage("Invalid value for '--timeout-s': '500' is not a valid integer."), 2),
    ).toBe("validation");
    expect(kindFor(statusArgs("x"), usage("Missing option '-n' / '--name'."), 2)).toBe("validation");
  });

  it("the API's errors as the CLI prints them: 5xx and 429 pass, 4xx do not", () => {
    const api = (code: number, reason: string) =>
      `Error: (${code})\nReason: ${reason}\nHTTP response body: {"error":{"detail":"${reason}"}}`;
    expect(kindFor(statusArgs("x"), api(503, "Service Unavailable"))).toBe("transient");
    expect(kindFor(statusArgs("x"), api(500, "Internal Server Error"))).toBe("transient");
    expect(kindFor(statusArgs("x"), api(429, "Too Many Requests"))).toBe("transient");
    expect(kindFor(statusArgs("x"), api(401, "Unauthorized"))).toBe("auth");
    expect(kindFor(statusArgs("x"), api(403, "Forbidden"))).toBe("auth");
    expect(kindFor(statusArgs("x"), api(404, "Not Found"))).toBe("not_found");
    expect(kindFor(statusArgs("x"), api(400, "Bad Request"))).toBe("validation");
  });

  it("a connection that fails on the way (requests' exceptions) passes", () => {
    expect(
      kindFor(
        ["service", "deploy", "-f", "c.yaml", "-n", "x"],
        "requests.exceptions.ConnectionError: ('Connection aborted.', ConnectionResetError(104, 'Connection reset by peer'))",
      ),
    ).toBe("transient");
    expect(
      kindFor(statusArgs("x"), "urllib3.exceptions.ReadTimeoutError: Read timed out. (read timeout=30)"),
    ).toBe("transient");
  });

  it("the newer CLI's JSON envelope: its exit code decides, not the digits in its message", () => {
    const envelope = (exitCode: number, message: string, code = "E") =>
      JSON.stringify({ error: { code, message, resolution: "…", exit_code: exitCode } });
    expect(kindFor(statusArgs("x"), envelope(2, "Service Unavailable (503)"), 2)).toBe("transient");
    expect(kindFor(statusArgs("x"), envelope(3, "Timed out"), 3)).toBe("transient");
    expect(kindFor(statusArgs("x"), envelope(4, "Invalid or expired token."), 4)).toBe("auth");
    expect(kindFor(statusArgs("x"), envelope(10, "The workload failed."), 10)).toBe("service_failed");
    expect(kindFor(statusArgs("x"), envelope(1, "timeout_s must be below 500"), 1)).toBe("validation");
    const absent = envelope(1, "Service with name 'svc-x1' was not found.");
    expect(kindFor(statusArgs("svc-x1"), absent, 1)).toBe("not_found");
    expect(saysServiceAbsent(failed(absent), "svc-x1")).toBe(true);
  });

  it("exit 2 alone says nothing: without a usage error it is not taken for bad config", () => {
    expect(kindFor(statusArgs("x"), "Something odd happened", 2)).toBe("unknown");
    expect(kindFor(statusArgs("x"), "Error: (502)\nReason: Bad Gateway", 2)).toBe("transient");
  });
});

describe("names kept out of every pattern", () => {
  it.each([
    "cloud-lab-rayoss-251-x1",
    "project-x",
    "timeout-x1",
    "auth-svc",
    "compute-config-x1",
    "unauthorized-x1",
    "internal-server-error-x1",
  ])("a missing service called %s is a missing service", (name) => {
    for (const stderr of [
      traceback(`RuntimeError: Service with name '${name}' was not found.`),
      `Error: No service with name '${name}' was found. Please verify that this service exists and you have access to it.`,
    ]) {
      expect(kindFor(statusArgs(name), stderr)).toBe("not_found");
      expect(saysServiceAbsent(failed(stderr), name)).toBe(true);
    }
  });

  it("a missing project or cloud is still the plan's mistake, never a missing service", () => {
    const args = [
      "service",
      "status",
      "-n",
      "cloud-lab-x1",
      "--cloud",
      "lab",
      "--project",
      "research",
      "--json",
    ];
    expect(kindFor(args, "Error: Project 'research' not found.")).toBe("validation");
    expect(kindFor(args, "Error: Cloud 'lab' does not exist.")).toBe("validation");
    expect(saysServiceAbsent(failed("Error: Project 'research' not found."), "cloud-lab-x1")).toBe(false);
    expect(saysServiceAbsent(failed("Project 'svc-x1-team' not found"), "svc-x1")).toBe(false);
  });

  it("a 'not found' must name this service, not one whose name contains it", () => {
    expect(saysServiceAbsent(failed("Error: Service with name 'svc-x10' was not found."), "svc-x1")).toBe(
      false,
    );
    expect(saysServiceAbsent(failed("Error: 404 Not Found"), "svc-x1")).toBe(false);
  });
});

describe("messages sorted by what they are, not by a word in them", () => {
  it("a 400 or an invalid value that mentions a timeout or a 500 is not retried", () => {
    expect(
      kindFor(statusArgs("x"), "Error: (400)\nReason: Bad Request\nHTTP response body: timeout_s too large"),
    ).toBe("validation");
    expect(
      kindFor(statusArgs("x"), "Error: Invalid service config: max_ongoing_requests 500 exceeds the limit"),
    ).toBe("validation");
    expect(kindFor(statusArgs("x"), "Error: Invalid value for request timeout: 500")).toBe("validation");
  });

  it("progress lines around the error do not decide it", () => {
    const stderr =
      "(anyscale +0.4s) Waiting up to 600s (timeout) for cloud 'lab'...\nError: Service config is invalid: 'applications' is required.";
    expect(kindFor(["service", "deploy", "-f", "c.yaml", "-n", "x"], stderr)).toBe("validation");
  });

  it("generic messages not written for the classifier still sort", () => {
    const k = (stderr: string) => classifyFailure(failed(stderr));
    expect(k("500")).toBe("transient");
    expect(k('{"detail":"Internal Server Error"}')).toBe("transient");
    expect(k("HTTP 502 Bad Gateway")).toBe("transient");
    expect(k("<html><head><title>504 Gateway Time-out</title></head></html>")).toBe("transient");
    expect(k("[Errno 104] Connection reset by peer")).toBe("transient");
    expect(k("Error: Unauthorized: token expired")).toBe("auth");
    expect(k("Error: No credentials found. Set ANYSCALE_CLI_TOKEN or run `anyscale login`.")).toBe("auth");
    expect(k("Error: extra fields not permitted")).toBe("validation");
    expect(k("Something odd happened")).toBe("unknown");
    expect(classifyFailure({ stdout: "", stderr: "", exitCode: 124, timedOut: true })).toBe("transient");
  });
});
