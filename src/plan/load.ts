import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import dotenv from "dotenv";
import { LineCounter, parseDocument, parse as parseYamlValue } from "yaml";
import type { z } from "zod";
import { UserError } from "../errors.js";
import { existingFile, filesIn } from "../inputs.js";
import { cliCommand } from "../invocation.js";
import { packageRoot } from "../paths.js";
import { expandEnvironment } from "./env-expand.js";
import { describeZodIssues, type PlanIssue } from "./issues.js";
import { checkPlan, type Plan, resolvePlan } from "./resolve.js";
import { type PlanInput, planSchema } from "./schema.js";
import { dottedPath, SourceMap } from "./source-map.js";
import { closestMatch } from "./suggest.js";

export interface LoadedPlan {
  plan: Plan;
  /** Path as the user gave it. */
  path: string;
  /** sha256 of the resolved plan: changes when the file or a variable it uses changes. */
  hash: string;
  /** What the loader set aside and why, for the command to print (never silently dropped). */
  notes: string[];
}

export interface LoadOptions {
  /** The environment ${VAR} references read; a .env next to the plan fills what it lacks. */
  env?: NodeJS.ProcessEnv;
  /** Overrides applied after loading (e.g. --target). */
  target?: Plan["target"];
}

/**
 * Reads a plan file: YAML → ${VAR} expansion (with a .env beside the plan) → schema with
 * defaults → derived values and cross-field rules. Every problem is collected and reported at
 * once, each as `file:line:col  dotted.path: message`.
 */
export function loadPlan(path: string, options: LoadOptions = {}): LoadedPlan {
  existingFile(path, { what: "a plan file (YAML)", hint: planHint(path) });
  return parsePlanText(readFileSync(path, "utf8"), path, options);
}

const PLAN_EXTENSIONS = [".yaml", ".yml"];

/** The plans in the folder that was given, or else the ones that ship with orchestrate. */
function planHint(path: string): string {
  const inFolder = filesIn(path, PLAN_EXTENSIONS);
  if (inFolder.length > 0) return `the plans in ${path}: ${inFolder.map(displayPath).join(", ")}`;
  const shipped = filesIn(join(packageRoot, "plans"), PLAN_EXTENSIONS).map(displayPath);
  return `the plans that ship with orchestrate: ${shipped.join(", ")}`;
}

export function parsePlanText(text: string, path: string, options: LoadOptions = {}): LoadedPlan {
  const shownPath = displayPath(path);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const details = doc.errors.map((e) => {
      const pos = lineCounter.linePos(e.pos[0]);
      return `${shownPath}:${pos.line}:${pos.col}  ${e.message.split("\n")[0]}`;
    });
    throw new UserError(`${shownPath} is not valid YAML`, { details });
  }
  const raw: unknown = doc.toJS();
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new UserError(`${shownPath} must be a YAML map of plan keys (name, model, images, …)`);
  }

  const env = { ...readDotEnv(path), ...(options.env ?? process.env) };
  const expanded = expandEnvironment(raw, env, parseScalar);
  const issues: PlanIssue[] = [...expanded.issues];

  const sections = parseSections(expanded.value as Record<string, unknown>, options.target);
  const notes = setAsideLocalSection(sections, options.target);
  // A value whose variable could not be expanded has already been reported; do not add that the
  // unexpanded "${VAR}" text is also the wrong type.
  const unexpanded = new Set(expanded.issues.map((i) => dottedPath(i.path)));
  issues.push(...sections.issues.filter((i) => !unexpanded.has(dottedPath(i.path))));
  issues.push(...checkPlan(sections.partial));
  const profile = profileLocation(sections.partial.model?.profile, path, issues);
  const plan = sections.complete ? resolvePlan(sections.complete) : undefined;
  if (plan && profile) plan.model.profile = profile;

  if (issues.length > 0 || !plan) {
    const map = new SourceMap(doc, lineCounter);
    const located = issues
      .map((issue) => ({
        issue,
        pos:
          issue.unknownKey === undefined
            ? map.locate(issue.path)
            : map.locate(issue.path.slice(0, -1), issue.unknownKey),
      }))
      .sort((a, b) => a.pos.line - b.pos.line || a.pos.col - b.pos.col);
    const details = located.map(
      ({ issue, pos }) => `${shownPath}:${pos.line}:${pos.col}  ${dottedPath(issue.path)}: ${issue.message}`,
    );
    const count = details.length === 1 ? "a problem" : `${details.length} problems`;
    throw new UserError(`${shownPath} has ${count}`, { details });
  }
  return { plan, path, hash: hashPlan(plan), notes };
}

/**
 * A local plan run with `--target anyscale` keeps everything but its `local:` section (the
 * simulator's noise), which real services cannot take: it is set aside with a note. A plan that
 * itself says `target: anyscale` and has a `local:` section is rejected instead (checkPlan).
 */
function setAsideLocalSection(
  sections: { partial: Partial<PlanInput>; declaredTarget?: Plan["target"] },
  targetOverride: Plan["target"] | undefined,
): string[] {
  if (targetOverride !== "anyscale" || sections.declaredTarget !== "local") return [];
  const notes: string[] = [];
  if (sections.partial.local !== undefined) {
    delete sections.partial.local;
    notes.push(
      "local: not applied with --target anyscale: it shapes only the simulator (e.g. its noise); real services bring their own",
    );
  }
  const model = sections.partial.model;
  if (model && model.profile_speedup !== 1) {
    model.profile_speedup = 1;
    notes.push(
      "model.profile_speedup: not applied with --target anyscale: real GPUs run at their own speed, and so does the prediction",
    );
  }
  return notes;
}

/** Where the simulator profiles that ship with orchestrate are (profiles/NAME.json). */
export const SHIPPED_PROFILES_DIR = join(packageRoot, "profiles");

/** The names of the shipped profiles, e.g. gpt-oss-120b-tp4-h100. */
export function shippedProfileNames(): string[] {
  return filesIn(SHIPPED_PROFILES_DIR, [".json"]).map((file) => basename(file, ".json"));
}

/** Where a profile is, for a person: the shipped ones say so, any other is its path. */
export function profileLocationLabel(path: string): string {
  return dirname(resolve(path)) === SHIPPED_PROFILES_DIR ? "shipped with orchestrate" : displayPath(path);
}

/**
 * model.profile is either the name of a shipped profile, so a plan copied anywhere keeps working,
 * or a path to a JSON file, resolved against the plan's folder so a plan and its own profile move
 * together. A name has no slash and no .json.
 */
function profileLocation(
  profile: string | undefined,
  planPath: string,
  issues: PlanIssue[],
): string | undefined {
  if (profile === undefined) return undefined;
  const shipped = shippedProfileNames();
  const problem = (message: string) => {
    issues.push({ path: ["model", "profile"], message });
    return undefined;
  };
  if (!/[\\/]/.test(profile) && !profile.endsWith(".json")) {
    if (shipped.includes(profile)) return join(SHIPPED_PROFILES_DIR, `${profile}.json`);
    const guess = closestMatch(profile, shipped);
    return problem(
      `no shipped profile is named "${profile}"${guess ? ` (did you mean "${guess}"?)` : ""}; ` +
        `the shipped ones: ${shipped.join(", ") || "none"}; or give a path to a .json file, relative to the plan's folder`,
    );
  }
  const absolute = resolve(dirname(planPath), profile);
  if (!existsSync(absolute)) {
    const sameName = shipped.find((name) => `${name}.json` === basename(profile));
    return problem(
      `no such file ${absolute} (paths resolve against the plan's folder)` +
        (sameName ? `; to use the shipped profile, name it: profile: ${sameName}` : "") +
        `; ${cliCommand("sim", "calibrate")} writes profiles`,
    );
  }
  if (statSync(absolute).isDirectory()) return problem(`${absolute} is a folder; expected a profile (JSON)`);
  return absolute;
}

/**
 * Each top-level section is parsed on its own, so one broken section does not hide the problems
 * of the others, and the cross-field checks can still run on every section that parsed.
 */
function parseSections(
  raw: Record<string, unknown>,
  targetOverride: Plan["target"] | undefined,
): {
  partial: Partial<PlanInput>;
  complete?: PlanInput;
  issues: PlanIssue[];
  /** The target the file itself gives (after defaults), before any override. */
  declaredTarget?: Plan["target"];
} {
  const shape = planSchema.shape;
  const partial: Record<string, unknown> = {};
  const issues: PlanIssue[] = [];
  const known = Object.keys(shape);
  for (const key of Object.keys(raw)) {
    if (!(key in shape)) {
      const guess = closestMatch(key, known);
      issues.push({
        path: [key],
        unknownKey: key,
        message: `unknown key${guess ? ` (did you mean "${guess}"?)` : ""}`,
      });
    }
  }
  for (const [key, schema] of Object.entries(shape)) {
    const result = (schema as z.ZodType).safeParse(raw[key], { reportInput: true });
    if (result.success) partial[key] = result.data;
    else issues.push(...describeZodIssues(result.error.issues, planSchema, raw, [key]));
  }
  const declaredTarget = partial.target as Plan["target"] | undefined;
  if (targetOverride) partial.target = targetOverride;
  const complete = issues.length === 0 ? (partial as PlanInput) : undefined;
  const declared = declaredTarget ? { declaredTarget } : {};
  return complete
    ? { partial, complete, issues, ...declared }
    : { partial: partial as Partial<PlanInput>, issues, ...declared };
}

export function hashPlan(plan: Plan): string {
  return createHash("sha256").update(JSON.stringify(plan)).digest("hex");
}

/** A .env next to the plan provides variables the environment lacks (the environment wins). */
function readDotEnv(planPath: string): Record<string, string> {
  const file = join(dirname(planPath), ".env");
  return existsSync(file) ? dotenv.parse(readFileSync(file)) : {};
}

/** `${PRICE}` standing alone may be a number or boolean, as if it had been written in place. */
function parseScalar(text: string): unknown {
  try {
    const value: unknown = parseYamlValue(text);
    return typeof value === "number" || typeof value === "boolean" ? value : text;
  } catch {
    return text;
  }
}

/** A path relative to the current folder when it lies below it, for messages; else as it is. */
export function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith("..") ? rel : path;
}
