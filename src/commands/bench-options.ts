import { InvalidArgumentError, Option } from "commander";
import type { Slo } from "../bench/index.js";
import { type LengthSpec, lengthSpecProblems, parseLengthText } from "../model/lengths.js";

/**
 * Value parsers of `orchestrate bench`'s flags: a bad value fails while the command line is read,
 * with commander's usage error (exit 2) naming the flag. Rules that join several flags live in
 * the command's core (validateBenchFlags in bench/bench-command.ts).
 */

/**
 * Another name for one of bench's options: the one `vllm bench serve` users type. Its value lands
 * where the option's own name puts it (the same attribute, the same parser), and the help lists
 * it under its own heading, so "did you mean" finds it too.
 */
export class AliasOption extends Option {
  constructor(
    flags: string,
    private readonly of: Option,
  ) {
    super(flags, `the same as ${of.long}`);
    if (of.parseArg) this.argParser(of.parseArg);
    this.helpGroup("The names vllm bench serve uses, accepted too:");
  }

  override attributeName(): string {
    return this.of.attributeName();
  }
}

/** "4,8,16" or "1..4,8" → whole numbers ≥ 1, each once. */
export function concurrencyListOption(text: string): number[] {
  const levels = parseLevelList(text, "4,8,16");
  const bad = levels.find((level) => !Number.isInteger(level) || level < 1);
  if (bad !== undefined)
    throw new InvalidArgumentError(`a concurrency must be a whole number ≥ 1, got ${bad}`);
  return levels;
}

/** "1..10" or "0.5,1,2" → request rates (req/s) > 0, each once. */
export function rateListOption(text: string): number[] {
  const rates = parseLevelList(text, "1..10");
  const bad = rates.find((rate) => !(rate > 0));
  if (bad !== undefined) throw new InvalidArgumentError(`a request rate must be a number > 0, got ${bad}`);
  return rates;
}

export function speedListOption(text: string): number[] {
  const speeds = parseLevelList(text, "0.5,1,2");
  const bad = speeds.find((speed) => !(speed > 0));
  if (bad !== undefined) throw new InvalidArgumentError(`a replay speed must be a number > 0, got ${bad}`);
  return speeds;
}

function parseLevelList(text: string, example: string): number[] {
  const levels: number[] = [];
  for (const item of text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    const range = /^(\d+)\.\.(\d+)$/.exec(item);
    if (range) {
      const [from, to] = [Number(range[1]), Number(range[2])];
      if (from > to) throw new InvalidArgumentError(`range ${item} runs backwards`);
      for (let v = from; v <= to; v++) levels.push(v);
      continue;
    }
    const value = Number(item);
    if (!Number.isFinite(value))
      throw new InvalidArgumentError(`"${item}" is not a number (e.g. ${example})`);
    levels.push(value);
  }
  if (levels.length === 0) throw new InvalidArgumentError(`no values given (e.g. ${example})`);
  const twice = levels.find((level, i) => levels.indexOf(level) !== i);
  if (twice !== undefined) throw new InvalidArgumentError(`${twice} is listed twice`);
  return levels;
}

/** "ttft:500,tpot:50,e2el:20000" (milliseconds) → SLOs. */
export function goodputOption(text: string): Slo {
  const slo: Slo = {};
  const keys = { ttft: "ttftMs", tpot: "tpotMs", e2el: "e2elMs" } as const;
  const items = text.split(/[,\s]+/).filter(Boolean);
  if (items.length === 0) throw new InvalidArgumentError("no SLOs given (e.g. ttft:500,tpot:50,e2el:20000)");
  for (const item of items) {
    const match = /^(ttft|tpot|e2el):(\d+(?:\.\d+)?)$/.exec(item);
    if (!match)
      throw new InvalidArgumentError(`"${item}" is not METRIC:MS (e.g. ttft:500,tpot:50,e2el:20000)`);
    const ms = Number(match[2]);
    if (!(ms > 0)) throw new InvalidArgumentError(`${match[1]}: must be > 0 ms, got ${ms}`);
    slo[keys[match[1] as keyof typeof keys]] = ms;
  }
  return slo;
}

/** "1" (Poisson), "2.5" (gamma), "inf" (constant spacing) → burstiness. */
export function burstinessOption(text: string): number {
  if (/^(inf|infinity|constant)$/i.test(text)) return Number.POSITIVE_INFINITY;
  const value = Number(text);
  if (!(value > 0)) throw new InvalidArgumentError('must be a number > 0 (1 = Poisson) or "inf" (constant)');
  return value;
}

/** "500", or a distribution: "uniform:min=100,max=500", "normal:mean=500,std=100,min=1,max=2000". */
export function lengthOption(text: string): LengthSpec {
  let spec: LengthSpec;
  try {
    spec = parseLengthText(text);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
  const problems = lengthSpecProblems("length", spec);
  if (problems.length > 0) throw new InvalidArgumentError(problems.join("; "));
  return spec;
}

/** completions | chat, or the API path as vllm bench serve's --endpoint spells it. */
export function endpointOption(text: string): "completions" | "chat" {
  const word = text.replace(/^\/?(v1\/)?/, "").replace(/\/$/, "");
  if (word === "completions") return "completions";
  if (word === "chat" || word === "chat/completions") return "chat";
  throw new InvalidArgumentError("must be completions or chat (or /v1/completions, /v1/chat/completions)");
}

/** A 32-bit run seed, as recorded in experiment.json. */
export function seedOption(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff)
    throw new InvalidArgumentError("must be a whole number from 0 to 4294967295");
  return value;
}

/** A duration in seconds, > 0. */
export function secondsOption(text: string): number {
  const value = Number(text);
  if (!(value > 0) || !Number.isFinite(value))
    throw new InvalidArgumentError("must be a number of seconds > 0");
  return value;
}
