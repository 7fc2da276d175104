import { relative } from "node:path";
import { UserError } from "../errors.js";
import { buildReport, type ReportFiles } from "./build.js";
import { loadReportSources, parseScaleFlags } from "./sources.js";

export interface ReportOptions {
  out?: string;
  scaleFromName?: boolean;
  scale?: string[];
  linearityTolerance?: string;
  json?: boolean;
}

/** The core of `orchestrate report`: load, build, and say what was written (text or JSON). */
export async function runReportCommand(
  dirs: string[],
  options: ReportOptions,
  cwd: string = process.cwd(),
): Promise<string> {
  const sources = await loadReportSources(
    dirs,
    {
      scaleFromName: options.scaleFromName === true,
      scales: parseScaleFlags(options.scale ?? []),
    },
    cwd,
  );
  const build: Parameters<typeof buildReport>[0] = {
    experiments: sources.experiments,
    outDir: options.out ?? sources.defaultOutDir,
  };
  if (options.linearityTolerance !== undefined)
    build.tolerance = parseTolerance(options.linearityTolerance, "--linearity-tolerance");
  if (sources.setup) build.setup = sources.setup;
  if (sources.twin) build.twin = sources.twin;
  const files = await buildReport(build);
  return options.json ? `${JSON.stringify(files, null, 2)}\n` : describeFiles(files, cwd);
}

export function describeFiles(files: ReportFiles, cwd: string = process.cwd()): string {
  const show = (path: string) => {
    const rel = relative(cwd, path);
    return rel.startsWith("..") || rel === "" ? path : rel;
  };
  const lines = [
    `Report written to ${show(files.outDir)}/`,
    `  ${show(files.html)}   (open in a browser; self-contained)`,
    `  ${show(files.markdown)}`,
    `  ${show(files.csv)}`,
    `  ${show(files.json)}`,
    `  ${files.charts.length} charts in ${show(files.outDir)}/charts/ (SVG and PNG)`,
    "",
    files.answer,
    "",
    ...files.summary.map((s) => `• ${s}`),
  ];
  if (files.notes.length > 0) lines.push("", "Notes:", ...files.notes.map((n) => `  ${n}`));
  return `${lines.join("\n")}\n`;
}

/** "5%" or "0.05" → 0.05; anything else, or outside (0, 50%], is the user's mistake. */
export function parseTolerance(text: string, where: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/.exec(text);
  const value = match ? Number(match[1]) / (match[2] ? 100 : 1) : Number.NaN;
  if (!(value > 0 && value <= 0.5)) {
    throw new UserError(`${where}: ${JSON.stringify(text)} is not a tolerance`, {
      hint: "give a fraction or a percentage above 0 and at most 50%, e.g. 0.05 or 5%",
    });
  }
  return value;
}
