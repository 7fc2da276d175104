import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { orchestrate, runFolder, runState, workspace } from "../helpers/orchestrate-process.js";

/**
 * The example plans with a dataset (plans/sharegpt.yaml) and a trace (plans/replay.yaml), run end
 * to end on the local simulator; and the bad files a user may bring, each refused with the file
 * and line before anything starts (no run folder, no service, no experiment folder).
 */

const json = (path: string) => JSON.parse(readFileSync(path, "utf8"));

function cellDir(run: string, scale: number): string {
  const cells = join(run, "cells");
  const name = readdirSync(cells).find((d) => d.endsWith(`-x${scale}`));
  if (!name) throw new Error(`no cell of scale ${scale} in ${cells}`);
  return join(cells, name);
}

describe.skipIf(process.platform !== "linux")(
  "datasets and traces on the local target",
  { timeout: 120_000 },
  () => {
    it("plans/sharegpt.yaml: every scale sends the file's prompts, recorded with the file's sha256", async () => {
      const cwd = workspace();
      const result = await orchestrate(["run", "plans/sharegpt.yaml"], { cwd });
      expect(result.code, result.stderr).toBe(0);
      const run = runFolder(cwd);
      expect(runState(run).status).toBe("succeeded");
      const setup = json(join(run, "setup.json"));
      expect(setup.workload.file).toMatchObject({ kind: "dataset", format: "sharegpt", rows: 8, skipped: 2 });
      for (const scale of [1, 2]) {
        const manifest = json(join(cellDir(run, scale), "experiment.json"));
        expect(manifest.workload_file.sha256).toBe(setup.workload.file.sha256);
        const level = json(join(cellDir(run, scale), "all-parts", "conc4.json"));
        // Text prompts: the server counted them; none is flagged as a length mismatch.
        expect(level.failed).toBe(0);
        expect(JSON.stringify(level.warnings)).not.toMatch(/prompt of/);
        // 4 streams × 11 waves (one warm-up) per client pass the 8 rows several times: all used.
        expect(level.workload_rows_used).toBe(8);
      }
      expect(readFileSync(join(run, "report", "report.md"), "utf8")).toMatch(
        /\| Dataset \| sharegpt .*sha256/,
      );
    });

    it("plans/replay.yaml: at each speed the clients together send every row of the trace once", async () => {
      const cwd = workspace();
      const rows = readFileSync(join(cwd, "plans/data/mooncake-sample.jsonl"), "utf8")
        .trim()
        .split("\n").length;
      // The 2x cell alone (two clients share the trace), to keep the suite short.
      const result = await orchestrate(["run", "plans/replay.yaml", "--only", "scale=2"], { cwd });
      expect(result.code, result.stderr).toBe(0);
      const run = runFolder(cwd);
      for (const speed of [1, 2]) {
        const level = json(join(cellDir(run, 2), "all-parts", `speed${speed}.json`));
        expect(level.completed).toBe(rows);
        expect(level.failed).toBe(0);
        // Rows dealt round-robin: client 1 gets rows 0, 2, 4 …, client 2 rows 1, 3, 5 …
        const parts = [1, 2].map(
          (p) => json(join(cellDir(run, 2), `part${p}`, `speed${speed}.json`)).completed,
        );
        expect(parts).toEqual([Math.ceil(rows / 2), Math.floor(rows / 2)]);
      }
      expect(json(join(run, "setup.json")).workload.file).toMatchObject({ kind: "trace", rows });
    });

    const badFiles: Array<{ name: string; plan: string; file: string; text: string; says: string }> = [
      {
        name: "a missing dataset",
        plan: "sharegpt",
        file: "absent.json",
        text: "",
        says: "absent.json: no such file",
      },
      {
        name: "a bad dataset line",
        plan: "sharegpt",
        file: "bad.json",
        text: '[\n{"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "yo"}]},\n{"conversations": [}\n]\n',
        says: "bad.json:3: the element starting here is not valid JSON",
      },
      {
        name: "an empty dataset",
        plan: "sharegpt",
        file: "empty.json",
        text: "[]\n",
        says: "empty.json:1: the dataset has no usable rows",
      },
      {
        name: "a trace row beyond the model's context",
        plan: "replay",
        file: "long.jsonl",
        text: '{"timestamp": 0, "input_length": 100, "output_length": 10}\n{"timestamp": 5, "input_length": 40000, "output_length": 10}\n',
        says: "long.jsonl:2: input_length 40000 + output_length 10 = 40010 tokens, more than max_model_len 32768",
      },
      {
        name: "an empty trace",
        plan: "replay",
        file: "empty.jsonl",
        text: "\n",
        says: "empty.jsonl:1: the trace has no rows",
      },
    ];
    for (const bad of badFiles) {
      it(`refuses ${bad.name} with its file and line, and starts nothing`, async () => {
        const cwd = workspace();
        if (bad.text) writeFileSync(join(cwd, "plans/data", bad.file), bad.text);
        const plan = join(cwd, "plans", `${bad.plan}.yaml`);
        const text = readFileSync(plan, "utf8").replace(/path: data\/[\w.-]+/, `path: data/${bad.file}`);
        writeFileSync(plan, text);
        const result = await orchestrate(["run", `plans/${bad.plan}.yaml`], { cwd });
        expect(result.code, result.stderr).toBe(2);
        expect(result.stderr).toContain(join(cwd, "plans/data", bad.says));
        expect(existsSync(join(cwd, "results"))).toBe(false);
      });
    }

    it("bench --trace refuses a bad trace before it creates the experiment", async () => {
      const cwd = workspace();
      writeFileSync(
        join(cwd, "trace.jsonl"),
        '{"timestamp": 0, "input_length": 10, "output_length": 2}\n{"timestamp": 1}\n',
      );
      const result = await orchestrate(
        [
          "bench",
          "exp",
          "--trace",
          "trace.jsonl",
          "--speed",
          "1",
          "-u",
          "http://127.0.0.1:9",
          "--results-dir",
          "out",
        ],
        { cwd },
      );
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain('trace.jsonl:2: missing "input_length"');
      expect(existsSync(join(cwd, "out"))).toBe(false);
    });
  },
);
