import type { DataWarning, ExperimentSummary, LevelSummary, RunSetup, WarningKind } from "../model/types.js";
import { clientsAt, type ImageGroup, type ReportInput } from "./input.js";

/**
 * Data-quality warnings, each pinned to what it affects (a level of one image at one scale, a whole
 * experiment, or the whole run), so the report can put it next to those numbers. The readers
 * already flag what only the files can tell (windows that did not overlap, a missing part); here
 * we add what can be checked from the summaries and the run setup, without repeating the readers.
 */

export interface ReportWarning extends DataWarning {
  image?: string;
  scale?: number;
}

export interface WarningKindInfo {
  /** One letter, shown next to the numbers a warning affects. */
  code: string;
  title: string;
  /** What it means for the numbers, in one sentence. */
  meaning: string;
}

export const WARNING_KINDS: Record<WarningKind, WarningKindInfo> = {
  failed_requests: {
    code: "F",
    title: "failed requests",
    meaning:
      "some requests failed; throughputs count successful requests only and latencies leave failures out.",
  },
  incomplete: {
    code: "I",
    title: "incomplete",
    meaning: "fewer requests completed than were asked for, so the level measured less work than planned.",
  },
  client_bound: {
    code: "C",
    title: "client-bound",
    meaning: "the load generator, not the server, was the bottleneck: the level understates the server.",
  },
  prefix_caching: {
    code: "P",
    title: "prefix caching on",
    meaning: "cache hits make requests cheaper in ways that depend on the traffic, confounding scaling.",
  },
  token_mismatch: {
    code: "T",
    title: "token mismatch",
    meaning: "the server's token counts differ from the requested input/output lengths.",
  },
  no_steady_state: {
    code: "N",
    title: "no steady state",
    meaning:
      "a client never had its target in flight (requests per level ≤ concurrency, no warm-up): the rates include the ramp-up and the drain, so they understate what the server sustains.",
  },
  windows_disjoint: {
    code: "W",
    title: "windows not overlapping",
    meaning:
      "the clients' steady states did not overlap, so there is no shared window: the rates are over the whole span, ramp-up and drain included.",
  },
  short_window: {
    code: "S",
    title: "short window",
    meaning:
      "the shared steady-state window covers less than half of the level: its rates rest on a small part of what was measured.",
  },
  averaged_percentiles: {
    code: "A",
    title: "averaged percentiles",
    meaning:
      "latency percentiles are means of per-client percentiles (no raw samples), and throughputs are sums of per-client rates.",
  },
  missing_part: {
    code: "M",
    title: "missing part",
    meaning: "a client has no result for this level, so the sum covers fewer clients than ran.",
  },
  unsteady: {
    code: "U",
    title: "unsteady",
    meaning:
      "the output token rate drifted or swung during the measurement window, so the level's one number averages different states of the server.",
  },
  steadiness_unjudged: {
    code: "J",
    title: "steadiness not judged",
    meaning:
      "the window was too short (or held too few tokens) to tell whether the server kept one speed: a slowdown during the level would not show.",
  },
  twin_deviation: {
    code: "D",
    title: "differs from the twin",
    meaning:
      "throughput or median TPOT is more than 20% away from what the calibrated simulator predicted for this plan: check the configuration or the profile.",
  },
  other: { code: "O", title: "other", meaning: "see the message." },
};

/** Tokens per request may differ from the requested length by this much before we call it a mismatch. */
export const TOKEN_TOLERANCE = { input: 0.02, output: 0.01 } as const;

export function collectWarnings(input: ReportInput): ReportWarning[] {
  const warnings: ReportWarning[] = [...setupWarnings(input.setup)];
  for (const group of input.images) {
    warnings.push(...clientScalingWarnings(group));
    for (const [scale, runs] of group.experiments) {
      for (const run of runs) {
        for (const w of run.warnings.filter((w) => w.level === undefined)) {
          warnings.push({ ...w, image: group.image, scale });
        }
      }
      for (const level of group.cells.get(scale)?.values() ?? []) {
        const at = { image: group.image, scale, level: level.key };
        for (const w of level.warnings) warnings.push({ ...w, ...at });
        const expected = expectedLengths(runs[0], input.setup);
        for (const w of derivedLevelWarnings(level, expected)) warnings.push({ ...w, ...at });
      }
    }
  }
  return dedupe(warnings);
}

/** Warnings for one cell (image × scale × level). */
export function warningsAt(
  warnings: readonly ReportWarning[],
  image: string,
  scale: number,
  level: string,
): ReportWarning[] {
  return warnings.filter((w) => w.image === image && w.scale === scale && w.level === level);
}

/** Warnings that concern a whole image (or the whole run when image is undefined), not one level. */
export function broadWarnings(warnings: readonly ReportWarning[], image?: string): ReportWarning[] {
  return warnings.filter((w) => w.level === undefined && (image === undefined ? true : w.image === image));
}

/** The codes of the kinds present, in a stable order ("IA"). */
export function warningCodes(warnings: readonly DataWarning[]): string {
  const kinds = new Set(warnings.map((w) => w.kind));
  return (Object.keys(WARNING_KINDS) as WarningKind[])
    .filter((k) => kinds.has(k))
    .map((k) => WARNING_KINDS[k].code)
    .join("");
}

function setupWarnings(setup?: RunSetup): ReportWarning[] {
  if (!setup) return [];
  const kwargs = setup.model.engineKwargs ?? {};
  if (setup.model.prefixCaching || kwargs.enable_prefix_caching === true) {
    return [
      {
        kind: "prefix_caching",
        message:
          "the engine ran with prefix caching on (enable_prefix_caching: true): cache hits depend on the " +
          "prompts and on which replica a request lands, so the scaling numbers of this run are confounded.",
      },
    ];
  }
  return [];
}

/** Clients are meant to scale with replicas; otherwise one per-client level is a different load per replica. */
function clientScalingWarnings(group: ImageGroup): ReportWarning[] {
  const measured = group.scales.filter((s) => group.experiments.has(s));
  const ratios = measured.map((s) => (clientsAt(group, s) ?? 0) / s);
  if (new Set(ratios).size <= 1) return [];
  const detail = measured
    .map((s) => {
      const n = clientsAt(group, s) ?? 0;
      return `${s}x: ${n} client${n === 1 ? "" : "s"}`;
    })
    .join(", ");
  return [
    {
      kind: "other",
      image: group.image,
      message:
        `clients do not scale with replicas (${detail}): the same per-client level is a different load per ` +
        "replica at each scale, so speed-up and efficiency compare unlike loads.",
    },
  ];
}

export interface ExpectedLengths {
  input?: number;
  output?: number;
}

function expectedLengths(run: ExperimentSummary | undefined, setup?: RunSetup): ExpectedLengths {
  const out: ExpectedLengths = {};
  const input = run?.inputLen ?? setup?.workload.inputTokens;
  const output = run?.outputLen ?? setup?.workload.outputTokens;
  if (input !== undefined) out.input = input;
  if (output !== undefined) out.output = output;
  return out;
}

/** What the summary numbers show that the reader may not have flagged. */
export function derivedLevelWarnings(level: LevelSummary, expected: ExpectedLengths): DataWarning[] {
  const has = (kind: WarningKind) => level.warnings.some((w) => w.kind === kind);
  const out: DataWarning[] = [];
  const key = level.key;
  // A failed request is also a request that did not complete; one warning says both.
  if (level.failed > 0 && !has("failed_requests") && !has("incomplete")) {
    const kinds = Object.entries(level.errorsByKind)
      .filter(([, n]) => n > 0)
      .map(([kind, n]) => `${kind} ${n}`)
      .join(", ");
    out.push({
      kind: "failed_requests",
      level: key,
      message: `${key}: ${level.failed} of ${level.numPrompts} requests failed${kinds ? ` (${kinds})` : ""}.`,
    });
  }
  if (level.completed + level.failed < level.numPrompts && !has("incomplete")) {
    const missing = level.numPrompts - level.completed - level.failed;
    out.push({
      kind: "incomplete",
      level: key,
      message: `${key}: ${missing} of ${level.numPrompts} requests neither completed nor failed (the level ended early).`,
    });
  }
  if (level.clientVerdict === "client_bound" && !has("client_bound")) {
    out.push({
      kind: "client_bound",
      level: key,
      message: `${key}: at least one client was the bottleneck (event-loop lag or CPU); this level measures the client.`,
    });
  }
  if (level.method === "seed_sum" && level.clients > 1 && !has("averaged_percentiles")) {
    out.push({
      kind: "averaged_percentiles",
      level: key,
      message: `${key}: latency percentiles are means of ${level.clients} clients' percentiles, not percentiles of all requests.`,
    });
  }
  if (!has("token_mismatch")) out.push(...tokenMismatch(level, expected));
  return out;
}

function tokenMismatch(level: LevelSummary, expected: ExpectedLengths): DataWarning[] {
  // Only vLLM files are checked here: our own results check every request's lengths against its
  // usage and carry their own warning.
  if (level.method !== "seed_sum") return [];
  if (!(level.requestThroughput > 0) || level.completed === 0) return [];
  const found: string[] = [];
  const outputPerRequest = level.outputThroughput / level.requestThroughput;
  const inputPerRequest = (level.totalTokenThroughput - level.outputThroughput) / level.requestThroughput;
  if (expected.output !== undefined && offBy(outputPerRequest, expected.output) > TOKEN_TOLERANCE.output) {
    found.push(`${outputPerRequest.toFixed(1)} output tokens per request, ${expected.output} requested`);
  }
  if (
    expected.input !== undefined &&
    level.totalTokenThroughput > 0 &&
    offBy(inputPerRequest, expected.input) > TOKEN_TOLERANCE.input
  ) {
    found.push(`${inputPerRequest.toFixed(1)} input tokens per request, ${expected.input} requested`);
  }
  if (found.length === 0) return [];
  return [
    {
      kind: "token_mismatch",
      level: level.key,
      message: `${level.key}: ${found.join("; ")}: the requests were not the workload the plan describes.`,
    },
  ];
}

function offBy(actual: number, wanted: number): number {
  return wanted === 0 ? Math.abs(actual) : Math.abs(actual - wanted) / wanted;
}

function dedupe(warnings: ReportWarning[]): ReportWarning[] {
  const seen = new Set<string>();
  return warnings.filter((w) => {
    const key = [w.kind, w.image, w.scale, w.level, w.message].join("\u0000");
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
