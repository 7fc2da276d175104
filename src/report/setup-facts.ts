import { hostname } from "node:os";
import type { RunSetup, RunSlo, WorkloadFileFacts } from "../model/types.js";
import { toolVersion } from "../paths.js";
import { redactValue } from "../secrets.js";
import { capacityCriterion, describeCriterion } from "./capacity.js";
import { formatLevel, formatScale } from "./format.js";
import type { ReportInput } from "./input.js";

/**
 * "The setup": what was measured, with what, when and where, as label/value pairs every renderer
 * lays out the same way. From the run's setup.json when there is one; otherwise what the
 * experiment folders themselves say (vLLM files know the model and the date, not the plan).
 */

export interface SetupFact {
  label: string;
  value: string;
}

export interface SetupImage {
  name: string;
  runtime: string;
  base: string;
  env: string;
}

export interface SetupSection {
  facts: SetupFact[];
  images: SetupImage[];
  /** Where the facts came from, said plainly. */
  source: string;
}

export interface GeneratedBy {
  toolVersion: string;
  host: string;
  at: string;
}

export function generatedBy(now: Date = new Date()): GeneratedBy {
  return { toolVersion: toolVersion(), host: hostname(), at: now.toISOString() };
}

/**
 * How far the server's prompt count landed from the requested length, over every level: a chat
 * template's few tokens, or (when it varies) a tokenizer that is not the model's. Absent when
 * every count matched, as token-id prompts do.
 */
function promptDeviationFact(input: ReportInput): SetupFact | undefined {
  const deviations = input.experiments.flatMap((e) =>
    e.levels.flatMap((l) => (l.promptTokensDeviation ? [l.promptTokensDeviation] : [])),
  );
  if (deviations.length === 0 || deviations.every((d) => d.min === 0 && d.max === 0)) return undefined;
  const min = Math.min(...deviations.map((d) => d.min));
  const max = Math.max(...deviations.map((d) => d.max));
  const mean = deviations.reduce((s, d) => s + d.mean, 0) / deviations.length;
  const signed = (n: number) => `${n >= 0 ? "+" : ""}${Number.isInteger(n) ? n : n.toFixed(1)}`;
  const spread = min === max ? "the same for every request" : `from ${signed(min)} to ${signed(max)}`;
  const chat = input.setup?.workload.endpoint === "chat";
  return {
    label: "Prompt tokens, server − requested",
    value: `${signed(mean)} per request, ${spread}${chat && min === max ? " (the chat template)" : ""}`,
  };
}

export function setupSection(input: ReportInput, generated: GeneratedBy): SetupSection {
  const setup = input.setup ? redactValue(input.setup) : undefined;
  const facts = setup ? factsFromSetup(setup) : factsFromExperiments(input);
  const deviation = promptDeviationFact(input);
  if (deviation) facts.push(deviation);
  facts.push(
    { label: "Experiments", value: input.experiments.map((e) => `${e.name} (${e.format})`).join(", ") },
    {
      label: "Report",
      value: `orchestrate ${generated.toolVersion}, generated ${generated.at} on ${generated.host}`,
    },
  );
  const images: SetupImage[] = setup
    ? setup.images.map((i) => ({
        name: i.name,
        runtime: i.runtime,
        base: i.base,
        env: Object.entries(i.env)
          .map(([k, v]) => `${k}=${v}`)
          .join(" "),
      }))
    : input.images.map((g) => ({
        name: g.image,
        runtime: g.runtime ?? "unknown",
        base: "unknown",
        env: "unknown",
      }));
  return {
    facts,
    images,
    source: setup
      ? "From the run's setup.json (the resolved plan as it was run)."
      : "No setup.json (these are experiment folders, not a run folder): what the files themselves record.",
  };
}

/** "ttft ≤ 500 ms, tpot ≤ 40 ms; capacity at p99 TTFT ≤ 500 ms, …; sized for 40 req/s". */
function sloWords(slo: RunSlo): string {
  const limits = (["ttft", "tpot", "e2el"] as const)
    .filter((m) => slo[`${m}Ms`] !== undefined)
    .map((m) => `${m} ≤ ${slo[`${m}Ms`]} ms`)
    .join(", ");
  const criterion = capacityCriterion(slo);
  return [
    limits,
    criterion ? `capacity at ${describeCriterion(criterion)}` : "",
    slo.targetRate !== undefined ? `sized for ${slo.targetRate} req/s` : "",
  ]
    .filter(Boolean)
    .join("; ");
}

function factsFromSetup(setup: RunSetup): SetupFact[] {
  const m = setup.model;
  const w = setup.workload;
  const slo = w.slo ? sloWords(w.slo) : "";
  const facts: SetupFact[] = [
    { label: "Plan", value: setup.planName },
    {
      label: "Model",
      value: [
        m.modelId,
        m.modelSource ? `from ${m.modelSource}` : "",
        m.acceleratorType ? `on ${m.acceleratorType}` : "",
      ]
        .filter(Boolean)
        .join(" "),
    },
    { label: "Tensor parallel size", value: String(m.tensorParallelSize) },
    { label: "Prefix caching", value: m.prefixCaching ? "ON (confounds scaling results)" : "off" },
    { label: "Engine kwargs", value: JSON.stringify(m.engineKwargs) },
  ];
  if (m.streamBatchingIntervalMs !== undefined) {
    facts.push({ label: "Stream batching interval", value: `${m.streamBatchingIntervalMs} ms` });
  }
  facts.push(
    {
      label: "Scales",
      value: setup.scales
        .map((s) => `${formatScale(s.replicas)}: ${s.clients} clients, ${s.ingressReplicas} ingress replicas`)
        .join("; "),
    },
    {
      label: "Workload",
      value:
        `${LOOP_WORDS[w.mode]} ` +
        `${w.levels.map((v) => formatLevel({ mode: w.mode, value: v, key: "" })).join(", ")}; ` +
        `${w.file ? `mean ${w.inputTokens} input / ${w.outputTokens} output tokens` : (w.lengths ?? `${w.inputTokens} input / ${w.outputTokens} output tokens`)}; ` +
        `${w.requestsPerLevel} per level${w.endpoint === "chat" ? "; chat endpoint (/v1/chat/completions)" : ""}`,
    },
    ...(w.file
      ? [{ label: w.file.kind === "trace" ? "Trace" : "Dataset", value: workloadFileFact(w.file) }]
      : []),
    { label: "SLOs (goodput)", value: slo || "none" },
    { label: "Target", value: setup.target },
    { label: "Where", value: setup.where },
    {
      label: "When",
      value: setup.finishedAt
        ? `${setup.startedAt} → ${setup.finishedAt}`
        : `${setup.startedAt} (not finished)`,
    },
    { label: "Tool version", value: `orchestrate ${setup.toolVersion}` },
  );
  if (setup.anyscaleCli) facts.push({ label: "Anyscale CLI", value: setup.anyscaleCli });
  return facts;
}

function factsFromExperiments(input: ReportInput): SetupFact[] {
  const models = [...new Set(input.experiments.map((e) => e.modelId).filter(Boolean))];
  const dates = input.experiments
    .map((e) => e.startedAt)
    .filter((d): d is string => Boolean(d))
    .sort();
  const lengths = [
    ...new Set(
      input.experiments
        .filter((e) => e.inputLen !== undefined || e.outputLen !== undefined)
        .map((e) => `${e.inputLen ?? "?"} input / ${e.outputLen ?? "?"} output tokens`),
    ),
  ];
  const scales = [...new Set(input.images.flatMap((g) => g.scales))];
  const clients = input.experiments.map((e) => `${e.name}: ${e.clients}`).join(", ");
  const levels = [...new Set(input.images.flatMap((g) => g.levels.map((l) => formatLevel(l))))];
  const formats = new Set(input.experiments.map((e) => e.format));
  return [
    { label: "Model", value: models.join(", ") || "unknown" },
    { label: "Images", value: input.images.map((g) => g.image).join(", ") },
    { label: "Scales", value: scales.map(formatScale).join(", ") },
    { label: "Clients", value: clients },
    {
      label: "Workload",
      value: `per-client levels ${levels.join(", ")}${lengths.length > 0 ? `; ${lengths.join("; ")}` : ""}`,
    },
    {
      label: "When",
      value:
        dates.length > 0
          ? `${dates[0]} → ${dates.at(-1)} (client local time, from the result files)`
          : "unknown",
    },
    {
      label: "Tool version",
      value: formats.has("vllm")
        ? "vllm bench serve (version not recorded in its files)"
        : "see each experiment.json",
    },
  ];
}

const LOOP_WORDS: Record<RunSetup["workload"]["mode"], string> = {
  concurrency: "closed loop, concurrency per client",
  "request-rate": "open loop, request rate per client",
  replay: "trace replay, speed per client",
};

/** Which file, which version of it (sha256), and what was in it. */
function workloadFileFact(file: WorkloadFileFacts): string {
  const what =
    file.kind === "trace"
      ? `${file.rows} requests over ${(file.duration_ms ?? 0) / 1000} s`
      : `${file.rows} prompts${file.skipped ? ` (${file.skipped} rows skipped)` : ""}, request g of a level gets row g mod ${file.rows}`;
  return `${file.format} ${file.path}, ${file.bytes} bytes, sha256 ${file.sha256.slice(0, 12)}…; ${what}; mean ${file.mean_input_tokens} input / ${file.mean_output_tokens} output tokens`;
}
