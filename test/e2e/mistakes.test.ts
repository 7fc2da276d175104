import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";

/**
 * The ordinary mistakes of a first hour, walked through every command of the built CLI: each is
 * the user's to fix, so each exits 2 with a message saying what was expected, and none is
 * reported as a bug in orchestrate (exit 1, "internal error", a stack trace).
 */

interface Mistake {
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** What the message must say. */
  says: RegExp;
}

let dir: string;
const at = (name: string) => join(dir, name);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "mistakes-"));
  mkdirSync(at("plans"));
  cpSync(join(import.meta.dirname, "../../plans/local.yaml"), at("plans/local.yaml"));
  writeFileSync(at("afile"), "not a folder\n");
  mkdirSync(at("afolder"));
});

const mistakes = (): Mistake[] => [
  // A folder where a plan file belongs, and a file that is not there.
  {
    args: ["run", at("plans")],
    says: /plans: is a folder; expected a plan file \(YAML\)[\s\S]*plans\/local\.yaml/,
  },
  { args: ["run", at("nothere.yaml")], says: /nothere\.yaml: no such file; expected a plan file/ },
  { args: ["predict", at("plans")], says: /is a folder; expected a plan file/ },
  { args: ["doctor", at("plans")], says: /is a folder; expected a plan file/ },
  { args: ["render", at("plans")], says: /is a folder; expected a plan file/ },
  // A plan file, a plain folder or nothing where a run folder belongs.
  {
    args: ["resume", at("plans/local.yaml")],
    says: /is a file; expected a run folder[\s\S]*run .*local\.yaml/,
  },
  { args: ["resume", at("afolder")], says: /not a run folder \(it has no journal\.jsonl\)/ },
  { args: ["resume", at("nothere")], says: /no such folder; expected a run folder/ },
  { args: ["teardown", at("plans/local.yaml")], says: /is a file; expected a run folder/ },
  { args: ["status", at("plans/local.yaml")], says: /is a file; expected a run folder/ },
  // Files where folders belong, and the reverse, in options.
  {
    args: ["run", at("plans/local.yaml"), "--dry-run", "--results-dir", at("afile")],
    says: /afile: is a file; expected a folder for run folders/,
  },
  { args: ["status", "--results-dir", at("afile")], says: /is a file; expected a folder of run folders/ },
  {
    args: ["predict", at("plans/local.yaml"), "--profile", at("afolder")],
    says: /is a folder; expected a simulator profile/,
  },
  {
    args: ["render", at("plans/local.yaml"), "--out", at("afile")],
    says: /is a file; expected a folder to render into/,
  },
  { args: ["results", at("afile")], says: /not an experiment folder|is a file/ },
  {
    args: ["results", "nothere"],
    says: /nothere: no such experiment; neither \.\/nothere nor .*nothere exists/,
  },
  { args: ["results", "--results-dir", at("afile")], says: /is a file; expected a folder of experiments/ },
  { args: ["results", "--records", at("afolder")], says: /is a folder; expected a records file/ },
  { args: ["report", at("afile")], says: /is a file; expected a run folder or experiment folders/ },
  { args: ["report", at("nothere")], says: /no such folder; expected a run folder or experiment folders/ },
  {
    args: ["report", at("afolder"), "--out", at("afile")],
    says: /is a file; expected a folder for the report/,
  },
  { args: ["sim", "--config", at("afolder")], says: /is a folder; expected simulator settings \(JSON\)/ },
  {
    args: ["sim", "calibrate", at("afile"), "--out", at("p.json")],
    says: /is a file; expected result folders/,
  },
  {
    args: ["sim", "calibrate", at("afolder"), "--out", at("afolder")],
    says: /is a folder; expected a file for the profile/,
  },
  { args: ["clean", at("afile")], says: /is a file; expected an experiment or run folder/ },
  {
    args: ["bench", "e1", "--results-dir", at("afile")],
    says: /is a file; expected a folder for experiments/,
  },
  // A flag mistyped, or named as another tool names it.
  {
    args: ["run", at("plans/local.yaml"), "--dryrun"],
    says: /unknown option '--dryrun'\s*\(Did you mean --dry-run\?\)/,
  },
  { args: ["bench", "e1", "--input-length", "32"], says: /\(Did you mean --input-len\?\)/ },
  { args: ["bench", "e1", "--max-concurency", "8"], says: /\(Did you mean --max-concurrency\?\)/ },
  // URLs without a scheme, and variables set to nothing.
  {
    args: ["smoke", "-u", "127.0.0.1:18556"],
    says: /--base-url: "127\.0\.0\.1:18556" has no scheme; expected a URL such as http:\/\/127\.0\.0\.1:18556/,
  },
  { args: ["smoke", "-u", "ftp://127.0.0.1"], says: /expected http:\/\/ or https:\/\// },
  {
    args: ["smoke"],
    env: { OPENAI_API_URL: "" },
    says: /OPENAI_API_URL is set but empty; expected the server's base URL/,
  },
  {
    args: ["smoke"],
    env: { OPENAI_API_URL: "localhost:8000" },
    says: /OPENAI_API_URL: "localhost:8000" has no scheme; expected a URL such as http:\/\/localhost:8000/,
  },
  {
    args: ["bench", "e1", "-u", "127.0.0.1:18556", "--results-dir", at("afolder")],
    says: /has no scheme; expected a URL such as http:\/\//,
  },
  {
    args: ["bench", "e1", "--results-dir", at("afolder")],
    env: { OPENAI_API_URL: " " },
    says: /OPENAI_API_URL is set but empty/,
  },
  {
    args: ["sim", "-p", "0"],
    env: { ORCHESTRATE_SIM_TOKEN: "" },
    says: /ORCHESTRATE_SIM_TOKEN.*must not be empty/,
  },
];

describe("an ordinary mistake", () => {
  it("exits 2 with what was expected, never as an internal error, in every command", async () => {
    const list = mistakes();
    // Every command that takes a path, a URL or a variable has at least one mistake here.
    const commands = new Set(
      list.map((m) => (m.args[0] === "sim" && m.args[1] === "calibrate" ? "sim calibrate" : m.args[0])),
    );
    expect([...commands].sort()).toEqual([
      "bench",
      "clean",
      "doctor",
      "predict",
      "render",
      "report",
      "results",
      "resume",
      "run",
      "sim",
      "sim calibrate",
      "smoke",
      "status",
      "teardown",
    ]);
    const outcomes = [];
    // A few at a time: each is a process of its own, and the machine is shared.
    for (let i = 0; i < list.length; i += 4) {
      outcomes.push(
        ...(await Promise.all(
          list.slice(i, i + 4).map(async (m) => ({ m, run: await runCli(m.args, m.env ?? {}, dir) })),
        )),
      );
    }
    for (const { m, run } of outcomes) {
      const shown = `orchestrate ${m.args.join(" ")}\n${run.stderr}${run.stdout}`;
      expect(run.stderr, shown).toMatch(m.says);
      expect(run.stderr, shown).not.toMatch(/internal error|\n\s+at /);
      expect(run.code, shown).toBe(2);
    }
  });
});
