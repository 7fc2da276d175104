import { existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { RecordCursor, RecordsFormatError, readRecordsFile, recordToJson } from "../bench/records-file.js";
import { describeError, UserError } from "../errors.js";
import { cliCommand } from "../invocation.js";
import { findExperiments, loadExperiment, locateExperiment } from "../model/load.js";
import { type ListedExperiment, renderExperiment, renderExperimentList } from "../model/render-text.js";
import type { ExperimentSummary } from "../model/types.js";
import type { Reporter } from "../reporter.js";

export interface ResultsOptions {
  resultsDir: string;
  records?: string;
  json?: boolean;
}

/** The body of `orchestrate results`, loaded only when the command runs. */
export async function showResults(dirs: string[], flags: ResultsOptions, reporter: Reporter): Promise<void> {
  if (flags.records) return printRecords(flags.records, reporter);
  if (dirs.length === 0) {
    const root = resolve(flags.resultsDir);
    const items: ListedExperiment[] = [];
    for (const dir of await findExperiments(root)) {
      try {
        items.push({ dir, summary: await loadExperiment(dir) });
      } catch (error) {
        items.push({ dir, error: describeError(error) });
      }
    }
    reporter.result(flags.json ? JSON.stringify(items, null, 2) : renderExperimentList(items, root));
    return;
  }
  const summaries = [];
  const located = dirs.map((dir) => locateExperiment(dir, flags.resultsDir));
  for (const dir of await expandDirs(located)) summaries.push(await loadExperiment(dir));
  if (flags.json) {
    reporter.result(JSON.stringify(summaries, null, 2));
    return;
  }
  reporter.result(summaries.map(renderExperiment).join("\n\n"));
  // Several scales (or a run folder) make a scaling question: answer it with the report's tables.
  const scales = new Set(summaries.map((s) => `${s.image}/${s.scale}`));
  if (scales.size > 1) reporter.result(`\n${await scalingText(located, summaries)}`);
}

/** The scaling report's tables, and where its charts are (or how to make them). */
async function scalingText(dirs: string[], summaries: ExperimentSummary[]): Promise<string> {
  const { readRunSetup, RUN_SETUP_FILE } = await import("../report/sources.js");
  const { reportText } = await import("../report/index.js");
  const runDirs = dirs.map((d) => resolve(d)).filter((d) => existsSync(join(d, RUN_SETUP_FILE)));
  const setup = runDirs[0] ? await readRunSetup(join(runDirs[0], RUN_SETUP_FILE)) : undefined;
  const charts = runDirs.flatMap((d) => {
    const folder = join(d, "report", "charts");
    return existsSync(folder)
      ? readdirSync(folder)
          .filter((f) => f.endsWith(".png"))
          .map((f) => join(folder, f))
      : [];
  });
  const text = reportText(summaries, setup, charts);
  return charts.length > 0
    ? text
    : `${text}\n\nCharts: run \`${cliCommand("report", ...dirs)}\` to draw them (report.html, report.md, charts/).`;
}

/** A folder that holds experiments (a run folder, results/) stands for all of them. */
async function expandDirs(dirs: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const dir of dirs) {
    const found = existsSync(dir) ? await findExperiments(dir) : [];
    if (found.length > 0) out.push(...found);
    else out.push(dir); // loadExperiment says what is wrong with it
  }
  return out;
}

async function printRecords(path: string, reporter: Reporter): Promise<void> {
  let file: Awaited<ReturnType<typeof readRecordsFile>>;
  try {
    file = await readRecordsFile(path);
  } catch (error) {
    if (error instanceof RecordsFormatError) throw new UserError(error.message);
    throw new UserError(`${path}: cannot read (${describeError(error)})`);
  }
  const cursor = new RecordCursor(file);
  const out: string[] = [];
  while (cursor.next()) {
    out.push(JSON.stringify(recordToJson(cursor, file.footer)));
    if (out.length >= 1000) {
      await reporter.resultPiece(`${out.join("\n")}\n`);
      out.length = 0;
    }
  }
  if (out.length > 0) await reporter.resultPiece(`${out.join("\n")}\n`);
}
