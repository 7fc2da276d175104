import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, runCli, startCli } from "../helpers/cli.js";
import { startTestServer, type TestServer } from "../helpers/http-server.js";
import { scheduledStream } from "../helpers/token-stream.js";

const TOKEN = "sk-e2e-secret-token-42424242";
let server: TestServer;
let slow: TestServer;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  server = await startTestServer(scheduledStream({ firstMs: 3, gapMs: 3, token: TOKEN }).handler, [
    "e2e-model",
  ]);
  slow = await startTestServer(scheduledStream({ firstMs: 20, gapMs: 20 }).handler);
  env = { OPENAI_API_URL: server.url, OPENAI_API_KEY: TOKEN };
});
afterAll(async () => {
  await server.close();
  await slow.close();
});

const resultsDir = () => mkdtempSync(join(tmpdir(), "cli-"));

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)],
  );
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("orchestrate bench, results", () => {
  it("takes the flags of vllm bench serve", async () => {
    const dir = resultsDir();
    const run = await runCli(
      [
        "bench",
        "vllm-habits",
        "--random-input-len",
        "32",
        "--random-output-len",
        "16",
        "--max-concurrency",
        "8",
        "-n",
        "8",
        "--results-dir",
        dir,
      ],
      env,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/conc8 .* 8\/0/);
    const manifest = JSON.parse(readFileSync(join(dir, "vllm-habits", "experiment.json"), "utf8"));
    expect(manifest).toMatchObject({ input_len: 32, output_len: 16 });
    expect(manifest.levels.map((l: { key: string }) => l.key)).toEqual(["conc8"]);

    const typo = await runCli(["bench", "x", "--input-length", "32"], env);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("(Did you mean --input-len?)");
  });

  it("sends chat with lengths spread by vLLM's --random-range-ratio, and refuses chat it cannot size", async () => {
    const dir = resultsDir();
    const before = server.requests.length;
    const run = await runCli(
      [
        "bench",
        "chat",
        "--endpoint",
        "/v1/chat/completions",
        "--tokenizer",
        "o200k_base",
        "--random-input-len",
        "40",
        "--random-output-len",
        "8",
        "--random-range-ratio",
        "0.5",
        "-c",
        "4",
        "-n",
        "12",
        "--results-dir",
        dir,
      ],
      env,
    );
    expect(run.code, run.stderr).toBe(0);
    const chats = server.requests.slice(before).filter((r) => r.url === "/v1/chat/completions");
    // One warm-up wave of 4, then 12 measured.
    expect(chats).toHaveLength(16);
    const bodies = chats.map((r) => JSON.parse(r.body));
    const words = bodies.map((b) => (b.messages[0].content as string).split(" ").length);
    const answers = bodies.map((b) => b.max_tokens as number);
    expect(Math.min(...words)).toBeGreaterThanOrEqual(20);
    expect(Math.max(...words)).toBeLessThanOrEqual(60);
    expect(Math.min(...answers)).toBeGreaterThanOrEqual(4);
    expect(Math.max(...answers)).toBeLessThanOrEqual(12);
    expect(new Set(words).size).toBeGreaterThan(1);
    const manifest = JSON.parse(readFileSync(join(dir, "chat", "experiment.json"), "utf8"));
    expect(manifest).toMatchObject({
      endpoint: "chat",
      input_tokens: { distribution: "uniform", min: 20, max: 60 },
      output_tokens: { distribution: "uniform", min: 4, max: 12 },
    });

    const unsized = await runCli(["bench", "unsized", "--endpoint", "chat", "--results-dir", dir], env);
    expect(unsized.code).toBe(2);
    expect(unsized.stderr).toContain("need the tokenizer of e2e-model");
    expect(unsized.stderr).toContain("--tokenizer");
  });

  it("benchmarks, prints the table, and the results command reads it back", async () => {
    const dir = resultsDir();
    const args = [
      "bench",
      "e2e",
      "-s",
      "2",
      "-c",
      "1,2",
      "--input-len",
      "20",
      "--output-len",
      "4",
      "-n",
      "8",
      "--results-dir",
      dir,
    ];
    const run = await runCli(args, env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/conc1 .* 16\/0/);
    expect(run.stdout).toMatch(/conc2 .* 16\/0/);
    expect(run.stdout + run.stderr).not.toContain(TOKEN);
    for (const file of filesUnder(join(dir, "e2e")))
      expect(readFileSync(file).includes(TOKEN), file).toBe(false);

    const list = await runCli(["results", "--results-dir", dir]);
    expect(list.code).toBe(0);
    // 8 requests of 4 tokens, a few milliseconds each, are too few tokens to judge steadiness by,
    // and may leave a window of under 3 requests: each level says so, and nothing else is wrong.
    expect(list.stdout).toMatch(/e2e .* orchestrate +2 +conc1 conc2 +\d+\n/);

    // By name, as bench made it, or by path.
    const shown = await runCli(["results", "e2e", "--results-dir", dir, "--json"]);
    expect(shown.stderr).toBe("");
    expect(shown.code).toBe(0);
    const [summary] = JSON.parse(shown.stdout);
    expect(summary).toMatchObject({ format: "orchestrate", modelId: "e2e-model", clients: 2 });
    expect(summary.levels.map((l: { completed: number }) => l.completed)).toEqual([16, 16]);
    for (const level of summary.levels as Array<{ warnings: Array<{ kind: string; message: string }> }>) {
      const kinds = level.warnings.map((w) => w.kind);
      expect(kinds).toContain("steadiness_unjudged");
      for (const kind of kinds) expect(["steadiness_unjudged", "short_window"]).toContain(kind);
    }

    const records = await runCli(["results", "--records", join(dir, "e2e", "part1", "conc1.records.bin")]);
    const lines = records.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    // 8 measured requests after one warm-up request (one wave at concurrency 1), kept and marked.
    expect(lines).toHaveLength(9);
    expect(lines.filter((l) => l.warmup === true)).toHaveLength(1);
    expect(Object.keys(lines[0])).toEqual(
      expect.arrayContaining([
        "part",
        "level",
        "sent_at",
        "first_token_at",
        "last_token_at",
        "chunk_times",
        "chunk_tokens",
      ]),
    );
    expect(lines[0]).toMatchObject({
      part: 1,
      level: "conc1",
      prompt_tokens: 20,
      completion_tokens: 4,
      status: 200,
    });

    const again = await runCli(args, env);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already holds benchmark results/);
    expect(again.stderr).toMatch(/--force/);
    expect((await runCli([...args, "--force", "-c", "1"], env)).code).toBe(0);
  });

  it("rejects bad flags with exit code 2 and says which", async () => {
    const dir = resultsDir();
    const bad = [
      [["bench", "x", "-t", "sometimes"], /'-t, --type <mode>' argument 'sometimes' is invalid/],
      [
        ["bench", "x", "-c", "4,many"],
        /'-c, --concurrency <list>' argument '4,many' is invalid. "many" is not a number/,
      ],
      [["bench", "x", "-s", "0"], /'-s, --clients <n>' argument '0' is invalid/],
      [
        ["bench", "x", "--goodput", "ttft=5"],
        /'--goodput <slos>' argument 'ttft=5' is invalid. "ttft=5" is not METRIC:MS/,
      ],
      [["bench", "x", "--no-such-flag"], /unknown option/],
      [["bench", "x", "--force", "--resume"], /--force and --resume: give one or the other/],
    ] as const;
    for (const [args, message] of bad) {
      const run = await runCli([...args, "--results-dir", dir], env);
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stderr).toMatch(message);
    }
  });

  it("Ctrl-C stops the run, writes what was measured, and exits 130", async () => {
    const dir = resultsDir();
    const run = startCli(
      [
        "bench",
        "stopme",
        "-s",
        "2",
        "-c",
        "2",
        "--input-len",
        "10",
        "--output-len",
        "10",
        "-n",
        "100000",
        "--results-dir",
        dir,
      ],
      { OPENAI_API_URL: slow.url },
    );
    const exp = join(dir, "stopme");
    await eventually(() => slow.requests.filter((r) => r.url === "/v1/completions").length >= 10);
    const pids = JSON.parse(readFileSync(join(exp, "pids.json"), "utf8")) as {
      parts: Array<{ pid: number }>;
    };
    run.child.kill("SIGINT");
    const { code } = await run.exit;
    expect(code, run.stderr()).toBe(130);
    expect(run.stderr()).toMatch(/interrupted: benchmark stopped/);
    const all = JSON.parse(readFileSync(join(exp, "all-parts", "conc2.json"), "utf8"));
    expect(all.interrupted).toBe(true);
    expect(all.completed).toBeGreaterThan(0);
    expect(JSON.parse(readFileSync(join(exp, "experiment.json"), "utf8")).status).toBe("interrupted");
    expect(existsSync(join(exp, "pids.json"))).toBe(false);
    for (const { pid } of pids.parts) expect(alive(pid)).toBe(false);
  });

  it("client processes do not outlive a coordinator that is killed", async () => {
    const dir = resultsDir();
    const run = startCli(
      [
        "bench",
        "killme",
        "-s",
        "2",
        "-c",
        "2",
        "--input-len",
        "10",
        "--output-len",
        "10",
        "-n",
        "100000",
        "--results-dir",
        dir,
      ],
      { OPENAI_API_URL: slow.url },
    );
    const pidsFile = join(dir, "killme", "pids.json");
    await eventually(() => existsSync(pidsFile));
    const pids = JSON.parse(readFileSync(pidsFile, "utf8")) as { parts: Array<{ pid: number }> };
    await eventually(() => pids.parts.every((p) => alive(p.pid)));
    run.child.kill("SIGKILL");
    await run.exit;
    await eventually(() => pids.parts.every((p) => !alive(p.pid)), 5000);
    // The crash left pids.json behind; `clean` checks each recorded PID and removes it. (A resume
    // would also see that every recorded process is gone: see stale-pids.test.ts.)
    const clean = await runCli(["clean", dir]);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toMatch(/part 1 PID \d+: not running/);
    expect(existsSync(pidsFile)).toBe(false);
  });
});

describe("orchestrate smoke", () => {
  it("prints the model, TTFT and tokens", async () => {
    const run = await runCli(["smoke"], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/model +e2e-model/);
    expect(run.stdout).toMatch(/TTFT +\d+\.\d ms/);
    expect(run.stdout).toMatch(/16 in, 16 out/);
  });

  it("exits 1 with the server's answer when the server refuses", async () => {
    const unauthorized = await runCli(["smoke", "-m", "e2e-model"], { OPENAI_API_URL: server.url });
    expect(unauthorized.code).toBe(1);
    expect(unauthorized.stderr).toMatch(/HTTP 401: missing or wrong bearer token/);
    expect(unauthorized.stderr).toMatch(/OPENAI_API_KEY/);

    const broken = await startTestServer((_req, res) => {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: "CUDA out of memory" } }));
    });
    const failed = await runCli(["smoke", "--json"], { OPENAI_API_URL: broken.url });
    await broken.close();
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/http_5xx: HTTP 500: CUDA out of memory/);
  });

  it("exits 1 when nothing listens", async () => {
    const gone = await startTestServer(() => {});
    await gone.close();
    const run = await runCli(["smoke", "-u", gone.url]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/cannot reach .*ECONNREFUSED/);
  });
});

const SEED = resolve(import.meta.dirname, "../../../shared/data/seed-bm-results");

describe.skipIf(!existsSync(SEED))("orchestrate results on the seed's data", () => {
  it("recomputes the seed's sums and shows the warnings the files deserve", async () => {
    const run = await runCli(["results", join(SEED, "rayoss251-x2"), join(SEED, "rayturbo251-x8")]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/conc16 +16 +9\.30 +2325\.8/);
    expect(run.stdout).toMatch(
      /only 238 of 320 requests completed \(74\.4%\); part1 125\/160, part2 113\/160/,
    );
    expect(run.stdout).toMatch(/latency percentiles are the mean of 8 clients' own percentiles/);
  });

  it("shows every experiment of a folder that holds several", async () => {
    const run = await runCli(["results", SEED, "--json"]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).map((e: { name: string }) => e.name)).toEqual([
      "rayoss251-x2",
      "rayoss251-x4",
      "rayoss251-x8",
      "rayturbo251-x2",
      "rayturbo251-x4",
      "rayturbo251-x8",
    ]);
  });

  it("lists the seed's experiments", async () => {
    const run = await runCli(["results", "--results-dir", SEED]);
    expect(run.code).toBe(0);
    for (const name of [
      "rayoss251-x2",
      "rayoss251-x4",
      "rayoss251-x8",
      "rayturbo251-x2",
      "rayturbo251-x4",
      "rayturbo251-x8",
    ]) {
      expect(run.stdout).toMatch(new RegExp(`${name} .* vllm`));
    }
  });
});

describe("the Justfile", () => {
  it("maps the seed's recipes onto orchestrate", async () => {
    const { spawnSync } = await import("node:child_process");
    const { packageRoot } = await import("../../src/paths.js");
    const just = (...args: string[]) =>
      spawnSync(
        join(packageRoot, "node_modules", ".bin", "just"),
        ["--justfile", join(packageRoot, "Justfile"), ...args],
        {
          encoding: "utf8",
          cwd: packageRoot,
        },
      );
    expect(just("--dry-run", "bench", "my-exp", "4").stderr.trim()).toBe(
      'npx --no-install orchestrate bench "my-exp" -s 4',
    );
    expect(just("--dry-run", "bench-conc", "my-exp", "8", "4,8,16").stderr.trim()).toBe(
      'npx --no-install orchestrate bench "my-exp" -s 8 -c "4,8,16"',
    );
    expect(just("--dry-run", "clean", "x").stderr.trim()).toBe(
      'npx --no-install orchestrate clean "results/x"',
    );
    const list = just("--list");
    expect(list.stdout).toMatch(/bench EXP_NAME SCALING="1"/);
    expect(list.stdout).toMatch(/smoke/);
  });
});
