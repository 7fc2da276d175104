import { relative } from "node:path";
import { buildReport, type ReportFiles } from "./build.js";
import { loadReportSources, parseScaleFlags } from "./sources.js";

export interface ReportOptions {
  out?: string;
  scaleFromName?: boolean;
  scale?: string[];
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
    ...files.summary.map((s) => `• ${s}`),
  ];
  if (files.notes.length > 0) lines.push("", "Notes:", ...files.notes.map((n) => `  ${n}`));
  return `${lines.join("\n")}\n`;
}
