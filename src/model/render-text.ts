import type { DataWarning, ExperimentSummary, LatencyStats, LevelSummary } from "./types.js";

/**
 * Plain-text views of experiments for the terminal (`orchestrate results`, the end of `bench`):
 * a list of experiments, and one table per experiment with a row per level.
 */

export function formatTable(headers: string[], rows: string[][], rightAligned: boolean[] = []): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (rightAligned[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(headers), line(widths.map((w) => "─".repeat(w))), ...rows.map(line)].join("\n");
}

export interface ListedExperiment {
  dir: string;
  summary?: ExperimentSummary;
  error?: string;
}

export function renderExperimentList(items: ListedExperiment[], root: string): string {
  if (items.length === 0) return `no experiments under ${root}`;
  const rows = items.map(({ dir, summary, error }) => {
    if (!summary) return [relativeName(dir, root), "", "", "", "", `unreadable: ${error ?? "?"}`];
    return [
      relativeName(dir, root),
      summary.startedAt ? summary.startedAt.replace("T", " ").slice(0, 16) : "",
      summary.format === "vllm" ? "vllm" : "orchestrate",
      String(summary.clients),
      summary.levels.map((l) => l.key).join(" "),
      summary.warnings.length === 0 ? "none" : `${summary.warnings.length}`,
    ];
  });
  return formatTable(["experiment", "date", "format", "clients", "levels", "warnings"], rows, [
    false,
    false,
    false,
    true,
    false,
    true,
  ]);
}

export function renderExperiment(summary: ExperimentSummary): string {
  const lines: string[] = [];
  const facts = [
    summary.modelId && `model ${summary.modelId}`,
    summary.image && `image ${summary.image}`,
    summary.scale !== undefined && `${summary.scale} replica${summary.scale === 1 ? "" : "s"}`,
    `${summary.clients} client${summary.clients === 1 ? "" : "s"}`,
    summary.inputLen !== undefined && `${summary.inputLen} in / ${summary.outputLen ?? "?"} out tokens`,
    summary.startedAt && `started ${summary.startedAt.replace("T", " ").slice(0, 19)}`,
  ].filter(Boolean);
  lines.push(`${summary.name}  (${summary.dir})`);
  lines.push(`  ${facts.join(" · ")}`);
  lines.push("");
  lines.push(levelTable(summary.levels));
  lines.push("");
  lines.push(methodNote(summary));
  const warnings = groupWarnings(summary.warnings);
  if (warnings.length > 0) {
    lines.push("");
    lines.push(`warnings (${summary.warnings.length}):`);
    for (const w of warnings) lines.push(`  ! ${w}`);
  }
  return lines.join("\n");
}

function levelTable(levels: LevelSummary[]): string {
  const withSeed = levels.some((l) => l.method === "window" && l.seedView);
  const headers = [
    "level",
    "per client",
    "req/s",
    "out tok/s",
    ...(withSeed ? ["seed sum"] : []),
    "TTFT p50/p99 ms",
    "TPOT p50/p99",
    "ITL p50/p99",
    "E2EL p50/p99",
    "ok/failed",
    "client",
    "warn",
  ];
  const rows = levels.map((l) => [
    l.key,
    perClient(l),
    fixed(l.requestThroughput, 2),
    outputThroughput(l),
    ...(withSeed ? [l.seedView ? fixed(l.seedView.outputThroughput, 1) : "–"] : []),
    pair(l.latency.ttft),
    pair(l.latency.tpot),
    pair(l.latency.itl),
    pair(l.latency.e2el),
    `${l.completed}/${l.failed}`,
    l.clientVerdict ?? "–",
    l.warnings.length === 0 ? "" : String(l.warnings.length),
  ]);
  const right = headers.map((h) => h !== "level" && h !== "client");
  return formatTable(headers, rows, right);
}

/** The mean ± the half-width of its 95% interval when the level was repeated. */
function outputThroughput(level: LevelSummary): string {
  const ci = level.outputThroughputCi95;
  const n = level.repeats?.length ?? 1;
  if (!ci || n < 2) return fixed(level.outputThroughput, 1);
  return `${fixed(level.outputThroughput, 1)} ± ${fixed((ci[1] - ci[0]) / 2, 1)} (n=${n})`;
}

function perClient(level: LevelSummary): string {
  if (level.mode === "concurrency") {
    const target = String(level.concurrency ?? "?");
    return level.achievedConcurrency !== undefined
      ? `${target} (${fixed(level.achievedConcurrency, 1)})`
      : target;
  }
  const target = level.mode === "replay" ? `×${level.speed ?? "?"}` : `${level.requestRate ?? "?"}/s`;
  return level.achievedRate !== undefined ? `${target} (${fixed(level.achievedRate, 2)})` : target;
}

function methodNote(summary: ExperimentSummary): string {
  if (summary.levels.every((l) => l.method === "window")) {
    const repeated = summary.levels.some((l) => (l.repeats?.length ?? 0) > 1);
    return (
      "Throughput: tokens and requests completed inside the shared steady-state window, all clients merged;\n" +
      "percentiles pooled from every request. 'per client' shows target (achieved in-flight or rate);\n" +
      "'seed sum' is the seed's arithmetic (sum of per-client rates) for comparison." +
      (repeated
        ? "\nRepeated levels: out tok/s is the mean over the n repeats ± the half-width of its 95% interval (Student's t)."
        : "")
    );
  }
  return (
    "Throughput: sum of the clients' own rates, latency: mean of the clients' own statistics\n" +
    "(the seed's arithmetic; vLLM result files hold no raw samples to do better)."
  );
}

/** Identical warnings of several levels ("conc4: X", "conc8: X") print once, naming the levels. */
function groupWarnings(warnings: DataWarning[]): string[] {
  const groups = new Map<string, string[]>();
  for (const w of warnings) {
    const prefix = w.level ? `${w.level}: ` : "";
    const text = prefix && w.message.startsWith(prefix) ? w.message.slice(prefix.length) : w.message;
    const levels = groups.get(text) ?? [];
    if (w.level) levels.push(w.level);
    groups.set(text, levels);
  }
  return [...groups].map(([text, levels]) => (levels.length > 0 ? `${levels.join(", ")}: ${text}` : text));
}

function pair(stats: LatencyStats | undefined): string {
  if (!stats) return "–";
  return `${ms(stats.p50 ?? stats.median)}/${ms(stats.p99)}`;
}

function ms(x: number): string {
  if (x >= 100) return x.toFixed(0);
  if (x >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

function fixed(x: number, digits: number): string {
  return Number.isFinite(x) ? x.toFixed(digits) : "–";
}

function relativeName(dir: string, root: string): string {
  return dir.startsWith(`${root}/`) ? dir.slice(root.length + 1) : dir;
}
