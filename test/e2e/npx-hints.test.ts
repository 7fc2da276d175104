import { spawn } from "node:child_process";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createFakeAnyscale } from "../helpers/fake-anyscale.js";
import { ROOT, runFolder, workspace } from "../helpers/orchestrate-process.js";

/**
 * Under npx, every follow-up command we print starts with `npx orchestrate`, because that is what
 * the person's shell can run. Tested through the real npx, in a project that has orchestrate as a
 * dependency (npx finds it in node_modules/.bin, as it finds the checkout's own bin in its cache),
 * and by pasting the printed line into a shell.
 */

/** A project with orchestrate installed as a dependency (a link to this checkout, as `npm link` makes). */
function projectWithOrchestrate(): string {
  const dir = workspace();
  writeFileSync(join(dir, "package.json"), `${JSON.stringify({ name: "npx-user", private: true })}\n`);
  mkdirSync(join(dir, "node_modules", ".bin"), { recursive: true });
  symlinkSync(ROOT, join(dir, "node_modules", "orchestrate"));
  symlinkSync("../orchestrate/dist/bin.js", join(dir, "node_modules", ".bin", "orchestrate"));
  return dir;
}

function shell(
  command: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("sh", ["-c", command], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

// `--no`: never fetch anything; the project's own link is what runs.
const NPX = "npx --no orchestrate";

describe("hints under npx", { timeout: 120_000 }, () => {
  it("say `npx orchestrate …`", async () => {
    const cwd = projectWithOrchestrate();
    const status = await shell(`${NPX} status`, cwd, process.env);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain("Start one with: npx orchestrate run plans/local.yaml");

    const wrong = await shell(`${NPX} resume plans/local.yaml`, cwd, process.env);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain("to start a run of this plan: npx orchestrate run plans/local.yaml");
  });

  it("including the services-left-running block, whose command pastes and ends them", async () => {
    const fake = createFakeAnyscale({ terminate_noop: true });
    const cwd = projectWithOrchestrate();
    const env = { ...fake.env, TINY_TERMINATE_TIMEOUT_S: "1" };
    const run = await shell(`${NPX} run test-plans/tiny.yaml --only scale=1`, cwd, env);
    expect(run.code).toBe(1);
    const dir = runFolder(cwd);
    const printed = run.stdout.split("\n").find((line) => line.startsWith("!!! npx orchestrate teardown"));
    expect(printed).toBe(`!!! npx orchestrate teardown ${dir}`);
    expect(run.stderr).toContain(`terminate them with npx orchestrate teardown ${dir}`);

    fake.setFaults({});
    const pasted = await shell(printed!.replace(/^!!! /, ""), cwd, env);
    expect(pasted.stdout).toContain("Terminated 1 service(s) of this run.");
    expect(pasted.code).toBe(0);
  });
});
