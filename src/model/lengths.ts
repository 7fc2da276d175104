import { deriveSeed, Random } from "../random.js";

/**
 * Prompt and answer lengths: a fixed count, or a distribution drawn per request.
 *
 * Why per request index and not per draw order: request i of a level gets the same lengths at
 * every scale, in every repeat and in every client, so 1x, 2x and 4x are compared on the same
 * work, and a run is reproduced from its seed alone. Bounds are required wherever a tail is
 * unbounded (normal, lognormal), because a prompt has to fit the model's context; a draw outside
 * them is clamped (not redrawn), so the bounds are also the extremes a run can see.
 *
 * The shapes follow what the common tools offer: vLLM's `--random-range-ratio` is `uniform` around
 * a length (see `rangeRatio`), GuideLLM and AIPerf describe lengths by mean and spread (`normal`),
 * and real chat lengths are long-tailed (`lognormal`, by median or mean).
 */

export type LengthSpec =
  | number
  | { distribution: "fixed"; value: number }
  | { distribution: "uniform"; min: number; max: number }
  | { distribution: "normal"; mean: number; std: number; min: number; max: number }
  | { distribution: "lognormal"; median?: number; mean?: number; sigma: number; min: number; max: number };

/** Which of a request's lengths is drawn: the two are independent streams of one seed. */
export type LengthKind = "input" | "output";

/** vLLM's `--random-range-ratio r`: lengths uniform in [L·(1−r), L·(1+r)], at least 1. */
export function rangeRatio(length: number, ratio: number): LengthSpec {
  if (ratio === 0) return length;
  return {
    distribution: "uniform",
    min: Math.max(1, Math.ceil(length * (1 - ratio))),
    max: Math.floor(length * (1 + ratio)),
  };
}

/** The length of request `index`, a whole number within the spec's bounds. */
export function drawLength(spec: LengthSpec, seed: number, kind: LengthKind, index: number): number {
  if (typeof spec === "number") return spec;
  if (spec.distribution === "fixed") return spec.value;
  const rng = new Random(deriveSeed(seed, kind, index));
  switch (spec.distribution) {
    case "uniform":
      return spec.min + rng.int(spec.max - spec.min + 1);
    case "normal":
      return clampRound(spec.mean + spec.std * rng.normal(), spec.min, spec.max);
    case "lognormal":
      return clampRound(Math.exp(lognormalMu(spec) + spec.sigma * rng.normal()), spec.min, spec.max);
  }
}

/**
 * The mean length before clamping to the bounds, for estimates (twin, dry run). Clamping moves it
 * a little where the bounds cut a tail; the results record the lengths the requests really asked for.
 */
export function meanLength(spec: LengthSpec): number {
  if (typeof spec === "number") return spec;
  switch (spec.distribution) {
    case "fixed":
      return spec.value;
    case "uniform":
      return (spec.min + spec.max) / 2;
    case "normal":
      return spec.mean;
    case "lognormal":
      return Math.exp(lognormalMu(spec) + (spec.sigma * spec.sigma) / 2);
  }
}

/** The longest length the spec can produce: what must fit the model's context. */
export function maxLength(spec: LengthSpec): number {
  if (typeof spec === "number") return spec;
  return spec.distribution === "fixed" ? spec.value : spec.max;
}

/** One line for reports and logs: `1000`, `uniform 500–1500`, `lognormal median 800 σ 0.6 [100, 4000]`. */
export function describeLength(spec: LengthSpec): string {
  if (typeof spec === "number") return String(spec);
  switch (spec.distribution) {
    case "fixed":
      return String(spec.value);
    case "uniform":
      return `uniform ${spec.min}–${spec.max}`;
    case "normal":
      return `normal mean ${spec.mean} sd ${spec.std} [${spec.min}, ${spec.max}]`;
    case "lognormal": {
      const centre = spec.median !== undefined ? `median ${spec.median}` : `mean ${spec.mean}`;
      return `lognormal ${centre} σ ${spec.sigma} [${spec.min}, ${spec.max}]`;
    }
  }
}

/** Every problem with a spec, each a line naming the field; empty when it is valid. */
export function lengthSpecProblems(name: string, spec: LengthSpec): string[] {
  const problems: string[] = [];
  const whole = (field: string, value: number | undefined) => {
    if (value === undefined || !Number.isInteger(value) || value < 1)
      problems.push(`${name}${field}: must be a whole number ≥ 1, got ${value}`);
  };
  if (typeof spec === "number") {
    whole("", spec);
    return problems;
  }
  if (spec.distribution === "fixed") {
    whole(".value", spec.value);
    return problems;
  }
  whole(".min", spec.min);
  whole(".max", spec.max);
  if (spec.min > spec.max) problems.push(`${name}: min ${spec.min} is more than max ${spec.max}`);
  if (spec.distribution === "normal" && !(spec.std >= 0))
    problems.push(`${name}.std: must be ≥ 0, got ${spec.std}`);
  if (spec.distribution === "lognormal") {
    if (!(spec.sigma >= 0)) problems.push(`${name}.sigma: must be ≥ 0, got ${spec.sigma}`);
    if ((spec.median === undefined) === (spec.mean === undefined))
      problems.push(`${name}: give the lognormal's median or its mean, one of them`);
    const centre = spec.median ?? spec.mean;
    if (centre !== undefined && !(centre > 0))
      problems.push(`${name}: the lognormal's median or mean must be > 0, got ${centre}`);
  }
  return problems;
}

/** ln of the median; from a mean m, median = m·e^(−σ²/2). */
function lognormalMu(spec: { median?: number; mean?: number; sigma: number }): number {
  if (spec.median !== undefined) return Math.log(spec.median);
  return Math.log(spec.mean ?? 1) - (spec.sigma * spec.sigma) / 2;
}

function clampRound(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Math.round(value)));
}

/** Both lengths in a line; the seed is named only where a length is drawn. */
export function describeLengths(input: LengthSpec, output: LengthSpec, seed: number): string {
  const drawn = [input, output].some((spec) => typeof spec !== "number" && spec.distribution !== "fixed");
  const text = `${describeLength(input)} input / ${describeLength(output)} output tokens`;
  return drawn ? `${text}, drawn per request from seed ${seed}` : text;
}

const FIELDS = {
  fixed: ["value"],
  uniform: ["min", "max"],
  normal: ["mean", "std", "min", "max"],
  lognormal: ["median", "mean", "sigma", "min", "max"],
} as const;

/**
 * A length as one command-line word: `500`, or `NAME:key=value,…` with the plan's keys
 * (`uniform:min=100,max=500`, `lognormal:median=800,sigma=0.5,min=1,max=4000`). Throws a
 * RangeError saying what is wrong; the spec's own rules are `lengthSpecProblems`'.
 */
export function parseLengthText(text: string): LengthSpec {
  if (/^\d+$/.test(text.trim())) return Number(text);
  const match = /^(\w+):(.+)$/.exec(text.trim());
  const name = match?.[1] as keyof typeof FIELDS | undefined;
  if (!match || !name || !(name in FIELDS))
    throw new RangeError(
      `"${text}" is neither a token count nor NAME:key=value,… with NAME one of ${Object.keys(FIELDS).join(", ")} (e.g. uniform:min=100,max=500)`,
    );
  const allowed: readonly string[] = FIELDS[name];
  const spec: Record<string, unknown> = { distribution: name };
  for (const pair of match[2]!.split(",")) {
    const [key, value, extra] = pair.split("=").map((s) => s.trim());
    if (!key || value === undefined || extra !== undefined || !allowed.includes(key))
      throw new RangeError(`"${pair}" in ${text}: ${name} takes ${allowed.join(", ")} as key=number`);
    const number = Number(value);
    if (value === "" || !Number.isFinite(number))
      throw new RangeError(`${name}.${key}: "${value}" is not a number`);
    spec[key] = number;
  }
  const missing = allowed.filter((key) => !(key in spec) && key !== "median" && key !== "mean");
  if (name === "normal" && !("mean" in spec)) missing.unshift("mean");
  if (missing.length > 0) throw new RangeError(`${text}: ${name} needs ${missing.join(", ")}`);
  return spec as LengthSpec;
}

/** The command-line word of a spec (what parseLengthText reads back). */
export function lengthText(spec: LengthSpec): string {
  if (typeof spec === "number") return String(spec);
  const { distribution, ...fields } = spec;
  const pairs = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${v}`);
  return `${distribution}:${pairs.join(",")}`;
}
