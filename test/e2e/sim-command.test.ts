/** `orchestrate sim` as a user runs it: a foreground process that prints its URL and stops on Ctrl-C. */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { describe, expect, it } from "vitest";
import { packageRoot } from "../../src/paths.js";
import { call } from "../helpers/sim-client.js";

const bin = join(packageRoot, "dist", "bin.js");

function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [bin, "sim", ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let stderr = "";
  child.stderr!.on("data", (part: Buffer) => {
    stderr += part.toString();
  });
  const firstLine = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once("line", resolve);
    void exit.then((code) => reject(new Error(`exited with ${code}: ${stderr}`)));
  });
  firstLine.catch(() => {}); // tests that expect a failure never wait for the line
  return { child, exit, firstLine, stderr: () => stderr };
}

describe("orchestrate sim", () => {
  it("serves on the printed URL with the flags' settings, and Ctrl-C stops it with exit code 0", async () => {
    const sim = run(
      ["--port", "0", "--replicas", "2", "--ingress", "3", "--model", "m1", "--profile", "turbo", "--json"],
      {
        ORCHESTRATE_SIM_TOKEN: "flag-token-123",
      },
    );
    const line = JSON.parse(await sim.firstLine) as { event: string; url: string };
    expect(line.event).toBe("listening");
    expect((await call(line.url, "/v1/models")).status).toBe(401);
    const stats = await call(line.url, "/sim/stats", { token: "flag-token-123" });
    expect(stats.json).toMatchObject({
      model: "m1",
      profile: "turbo-haproxy",
      config: {
        replicas: 2,
        ingress_replicas: 3,
        ingress: { request_overhead_ms: 1.2, chunk_cost_ms: 0.15 },
      },
    });
    sim.child.kill("SIGINT");
    expect(await sim.exit).toBe(0);
  });

  it("rejects bad flags and bad config files with exit code 2", async () => {
    const badFlag = run(["--error-rate", "2"]);
    expect(await badFlag.exit).toBe(2);
    expect(badFlag.stderr()).toMatch(/fraction between 0 and 1/);

    const badConfig = run(["--port", "0"], { ORCHESTRATE_SIM_CONFIG: '{"engine":{"max_num_seqs":"lots"}}' });
    expect(await badConfig.exit).toBe(2);
    expect(badConfig.stderr()).toMatch(/engine\.max_num_seqs/);
  });
});
