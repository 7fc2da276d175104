import type { z } from "zod";
import type { PlanPath } from "./source-map.js";
import { closestMatch } from "./suggest.js";

/** One problem in a plan: where (a path into the plan) and what, in words a user acts on. */
export interface PlanIssue {
  path: PlanPath;
  message: string;
  /** Set for an unknown key (the last element of path), so the position points at the key itself. */
  unknownKey?: string;
}

type Issue = z.core.$ZodIssue;

/** Turns zod's issues into plan issues with our own wording and "did you mean" suggestions. */
export function describeZodIssues(
  issues: readonly Issue[],
  schema: z.ZodType,
  input: unknown,
  prefix: PlanPath = [],
): PlanIssue[] {
  return issues.flatMap((issue) => describeIssue(issue, schema, input, prefix));
}

function describeIssue(issue: Issue, schema: z.ZodType, input: unknown, prefix: PlanPath): PlanIssue[] {
  const path = [
    ...prefix,
    ...(issue.path as PropertyKey[]).map((p) => (typeof p === "number" ? p : String(p))),
  ];
  // A message written in the schema says it best; zod's own defaults are reworded below.
  if (
    issue.code !== "invalid_union" &&
    issue.code !== "unrecognized_keys" &&
    !isZodDefaultMessage(issue.message)
  ) {
    return [{ path, message: issue.message }];
  }
  switch (issue.code) {
    case "unrecognized_keys": {
      const known = knownKeysAt(schema, path);
      return issue.keys.map((key) => {
        const guess = closestMatch(key, known);
        const hint = guess
          ? ` (did you mean "${guess}"?)`
          : known.length > 0
            ? ` (known keys: ${known.join(", ")})`
            : "";
        return { path: [...path, key], unknownKey: key, message: `unknown key${hint}` };
      });
    }
    case "invalid_type": {
      const value = valueAt(input, path);
      if (value === undefined) return [{ path, message: "is required" }];
      return [{ path, message: `must be ${article(issue.expected)}, not ${describeValue(value)}` }];
    }
    case "too_small":
      return [{ path, message: tooSmallMessage(issue) }];
    case "too_big":
      return [{ path, message: `must be at most ${String(issue.maximum)}` }];
    case "invalid_value":
      return [{ path, message: invalidValueMessage(issue.values, valueAt(input, path)) }];
    case "invalid_format":
      return [
        {
          path,
          message: issue.message.startsWith("Invalid") ? `is not a valid ${issue.format}` : issue.message,
        },
      ];
    case "invalid_union":
      return describeUnion(issue, schema, input, path);
    default:
      return [{ path, message: issue.message }];
  }
}

/**
 * A union (a scale is `4` or `{replicas: 4}`) fails in every branch; report the branch that
 * matches the kind of value the user wrote, not all of them.
 */
function describeUnion(
  issue: Extract<Issue, { code: "invalid_union" }>,
  schema: z.ZodType,
  input: unknown,
  path: PlanPath,
): PlanIssue[] {
  const branches = issue.errors.filter(
    (branch) => !(branch.length === 1 && branch[0]?.code === "invalid_type" && branch[0].path.length === 0),
  );
  if (branches.length === 1 && branches[0]) {
    return branches[0].flatMap((inner) => describeIssue(inner, schema, input, path));
  }
  // Every branch refused the value's type; a number that is not whole fails the number branch's
  // "int" type, which says more than "Invalid input" does.
  const value = valueAt(input, path);
  const sameKind = issue.errors.find((branch) => {
    const expected = branch[0]?.code === "invalid_type" ? String(branch[0].expected) : "";
    return typeof value === "number" && (expected === "int" || expected === "number");
  });
  if (branches.length === 0 && sameKind) {
    return sameKind.flatMap((inner) => describeIssue(inner, schema, input, path));
  }
  return [{ path, message: `${issue.message}, not ${describeValue(valueAt(input, path))}` }];
}

function isZodDefaultMessage(message: string): boolean {
  return /^(Invalid|Too (small|big)|Unrecognized|Expected)/.test(message);
}

function tooSmallMessage(issue: Extract<Issue, { code: "too_small" }>): string {
  const minimum = Number(issue.minimum);
  switch (issue.origin) {
    case "array":
      return minimum === 1 ? "must not be empty" : `must have at least ${minimum} entries`;
    case "string":
      return minimum === 1 ? "must not be empty" : `must be at least ${minimum} characters`;
    case "int":
    case "number":
      if (minimum === 0 && !issue.inclusive) return "must be a positive number";
      return `must be ${issue.inclusive ? "at least" : "more than"} ${minimum}`;
    default:
      return issue.message;
  }
}

function invalidValueMessage(values: readonly unknown[], actual: unknown): string {
  if (values.length === 1) return `must be ${JSON.stringify(values[0])}, not ${describeValue(actual)}`;
  const listed = values.map((v) => JSON.stringify(v)).join(", ");
  const guess = typeof actual === "string" ? closestMatch(actual, values.map(String)) : undefined;
  return `must be one of ${listed}, not ${describeValue(actual)}${guess ? ` (did you mean "${guess}"?)` : ""}`;
}

function article(expected: string): string {
  const names: Record<string, string> = {
    object: "a map of keys",
    array: "a list",
    number: "a number",
    int: "a whole number",
    string: "a string",
    boolean: "true or false",
  };
  return names[expected] ?? expected;
}

export function describeValue(value: unknown): string {
  if (value === null) return "null (an empty value)";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a map";
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
  return `${typeof value} ${String(value)}`;
}

function valueAt(input: unknown, path: PlanPath): unknown {
  let value = input;
  for (const segment of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string | number, unknown>)[segment];
  }
  return value;
}

/** The keys an object schema accepts at `path`, looking through defaults, optionals and unions. */
export function knownKeysAt(schema: z.ZodType, path: PlanPath): string[] {
  let candidates: unknown[] = [schema];
  for (const segment of path) {
    candidates = candidates.flatMap(objectsOf).flatMap((s) => childSchemas(s, segment));
  }
  const keys = new Set<string>();
  for (const s of candidates.flatMap(objectsOf)) {
    const def = defOf(s);
    if (def?.type === "object") for (const key of Object.keys(def.shape as object)) keys.add(key);
  }
  return [...keys];
}

interface Def {
  type: string;
  shape?: Record<string, unknown>;
  innerType?: unknown;
  in?: unknown;
  out?: unknown;
  element?: unknown;
  options?: unknown[];
  valueType?: unknown;
}

function defOf(schema: unknown): Def | undefined {
  return (schema as { _zod?: { def?: Def } })?._zod?.def;
}

/** Unwraps wrappers (default, optional, pipe, …) down to the schemas that hold structure. */
function objectsOf(schema: unknown): unknown[] {
  const def = defOf(schema);
  if (!def) return [];
  if (def.innerType) return objectsOf(def.innerType);
  if (def.type === "pipe") return [...objectsOf(def.in), ...objectsOf(def.out)];
  if (def.type === "union") return (def.options ?? []).flatMap(objectsOf);
  return [schema];
}

function childSchemas(schema: unknown, segment: string | number): unknown[] {
  const def = defOf(schema);
  if (!def) return [];
  if (def.type === "object" && typeof segment === "string" && def.shape?.[segment])
    return [def.shape[segment]];
  if (def.type === "array" && typeof segment === "number") return [def.element];
  if (def.type === "record") return [def.valueType];
  return [];
}
