import { z } from "zod";
import { planSchema } from "./schema.js";

/**
 * docs/plan.md, generated from the zod schema so the page can never drift from what the loader
 * accepts. It walks the JSON Schema that zod emits (a stable, public shape) rather than zod's
 * internals. Every key must carry a description (`.describe()` in schema.ts): a key without one
 * is a bug in the schema, and generation fails naming it.
 */

interface JsonSchema {
  type?: string | string[];
  description?: string;
  /** Set by schema.ts on keys that plans once had and that are now rejected. */
  removed?: boolean;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  /** A discriminated union (a length distribution); its members are described in the key's text. */
  oneOf?: JsonSchema[];
  additionalProperties?: JsonSchema | boolean;
  minimum?: number;
  exclusiveMinimum?: number;
  maximum?: number;
  minItems?: number;
  pattern?: string;
}

export interface PlanKeyRow {
  /** Dotted path, with `[]` for list items: `images[].env`. */
  key: string;
  type: string;
  /** Rendered default, "required", "(section)" or "—" (optional, no default). */
  default: string;
  description: string;
  /** A key plans once had: rejected now, listed apart with what replaced it. */
  removed: boolean;
}

/** The JSON Schema of a plan file as a user writes it (before defaults and transforms). */
function planJsonSchema(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonSchema;
}

/** Every key of the plan, in schema order, nested keys right after their parent. */
export function planKeyRows(schema: z.ZodType = planSchema): PlanKeyRow[] {
  const rows: PlanKeyRow[] = [];
  const missing: string[] = [];
  walkObject(planJsonSchema(schema), "", rows, missing);
  if (missing.length > 0) {
    throw new Error(
      `plan schema keys without a description (add .describe() in src/plan/schema.ts): ${missing.join(", ")}`,
    );
  }
  return rows;
}

function walkObject(schema: JsonSchema, prefix: string, rows: PlanKeyRow[], missing: string[]): void {
  const required = new Set(schema.required ?? []);
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    const key = prefix ? `${prefix}.${name}` : name;
    const description = describedBy(child);
    if (!description) missing.push(key);
    rows.push({
      key,
      type: child.removed ? "—" : typeName(child),
      default: defaultText(child, required.has(name)),
      description: description ?? "",
      removed: child.removed === true,
    });
    for (const nested of nestedObjects(child)) {
      walkObject(nested.schema, `${key}${nested.suffix}`, rows, missing);
    }
  }
}

/** Objects below a key that have keys of their own: the key itself, list items, union members. */
function nestedObjects(schema: JsonSchema): Array<{ schema: JsonSchema; suffix: string }> {
  if (schema.properties) return [{ schema, suffix: "" }];
  if (schema.items?.properties) return [{ schema: schema.items, suffix: "[]" }];
  if (schema.items?.anyOf) {
    return schema.items.anyOf
      .filter((member) => member.properties)
      .map((member) => ({ schema: member, suffix: "[]" }));
  }
  if (schema.anyOf) {
    return schema.anyOf
      .filter((member) => member.properties)
      .map((member) => ({ schema: member, suffix: "" }));
  }
  return [];
}

function describedBy(schema: JsonSchema): string | undefined {
  return schema.description ?? schema.anyOf?.find((member) => member.description)?.description;
}

function typeName(schema: JsonSchema): string {
  if (schema.const !== undefined) return `\`${JSON.stringify(schema.const)}\``;
  if (schema.enum) return alternatives(schema.enum.map((value) => `\`${String(value)}\``));
  if (schema.anyOf) return alternatives([...new Set(schema.anyOf.map(typeName))]);
  if (schema.oneOf) return "map";
  if (Array.isArray(schema.type)) return alternatives(schema.type.map((type) => typeName({ type })));
  switch (schema.type) {
    case "integer":
      return withRange("whole number", schema);
    case "number":
      return withRange("number", schema);
    case "array":
      return schema.items ? `list of ${itemsName(schema.items)}` : "list";
    case "object":
      if (schema.properties) return "map";
      if (schema.additionalProperties && typeof schema.additionalProperties === "object") {
        const values = typeName(schema.additionalProperties);
        return values === "any" ? "map" : `map of name → ${values}`;
      }
      return "map";
    default:
      return schema.type ?? "any";
  }
}

/** `a`, `a or b`, `a, b or c`. */
function alternatives(names: string[]): string {
  if (names.length <= 1) return names[0] ?? "any";
  return `${names.slice(0, -1).join(", ")} or ${names.at(-1)}`;
}

/** What a list holds, in the plural: "whole numbers ≥ 1 or maps". */
function itemsName(items: JsonSchema): string {
  const members = items.anyOf ?? [items];
  return alternatives([...new Set(members.map((member) => plural(typeName(member))))]);
}

/** The largest integer zod reports for an unbounded whole number: no real bound. */
const UNBOUNDED = Number.MAX_SAFE_INTEGER;

function withRange(base: string, schema: JsonSchema): string {
  const max = schema.maximum !== undefined && schema.maximum < UNBOUNDED ? schema.maximum : undefined;
  if (schema.minimum !== undefined && max !== undefined) return `${base} from ${schema.minimum} to ${max}`;
  if (schema.exclusiveMinimum !== undefined) return `${base} > ${schema.exclusiveMinimum}`;
  if (schema.minimum !== undefined && schema.minimum > -UNBOUNDED) return `${base} ≥ ${schema.minimum}`;
  if (max !== undefined) return `${base} ≤ ${max}`;
  return base;
}

function plural(type: string): string {
  for (const noun of ["whole number", "number", "string", "boolean", "map"]) {
    if (type === noun || type.startsWith(`${noun} `)) return `${noun}s${type.slice(noun.length)}`;
  }
  return type;
}

function defaultText(schema: JsonSchema, required: boolean): string {
  if (schema.removed) return "—";
  if (schema.default !== undefined) {
    const value = schema.default;
    if (isEmptyMap(value) && schema.properties) return "(section)";
    return `\`${typeof value === "string" ? value : yamlFlow(value)}\``;
  }
  return required ? "required" : "—";
}

function isEmptyMap(value: unknown): boolean {
  return (
    typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).length === 0
  );
}

/** A default as it would be written in the plan: `[4, 8, 16]`, `{}`. */
function yamlFlow(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(yamlFlow).join(", ")}]`;
  if (isEmptyMap(value)) return "{}";
  return JSON.stringify(value);
}

/** The page's introduction; kept here so the generated page is whole. */
const INTRO = [
  "A plan is one YAML file that describes one experiment: the model, the images to compare, the",
  "scales (LLM replicas) to run each image at, the workload, and how to deploy and tear down.",
  "`orchestrate run PLAN --dry-run` shows what a plan would do and cost; `orchestrate render PLAN`",
  "writes the service configs it deploys.",
  "",
  '- Every map is strict: an unknown key is an error with a "did you mean". Every problem of a plan',
  "  is reported at once, each with its dotted path and line.",
  "- `${VAR}` and `${VAR:-default}` are expanded from the environment and from a `.env` file beside",
  "  the plan; `$$` is a literal `$`.",
  "- Rules that involve several keys (sizes that must fit on the nodes, prefix caching, service",
  "  names, settings of one target in a plan for the other) are checked after the keys below.",
  "- The `local` target is the simulator on this machine ([simulator.md](simulator.md)); keys marked",
  '  "Anyscale target only" mean nothing to it, and `local:` means nothing to Anyscale.',
  "",
  "The first table lists the top-level keys; each section then has a table of its own. In the",
  "default column, `required` means the key has no default and must be given; `(section)` means",
  "the section may be left out, and its keys then take their defaults; `—` means the key is",
  "optional and has no default (what its absence means is in its description).",
];

/** The whole page, deterministic (the test compares it byte for byte with docs/plan.md). */
export function renderPlanReference(schema: z.ZodType = planSchema): string {
  const rows = planKeyRows(schema);
  const current = rows.filter((row) => !row.removed);
  const removed = rows.filter((row) => row.removed);
  const sections = new Map<string, PlanKeyRow[]>();
  for (const row of current) {
    const section = /^[^.[]+(?=[.[])/.exec(row.key)?.[0] ?? "";
    sections.set(section, [...(sections.get(section) ?? []), row]);
  }
  const lines = [
    "# Plan file reference",
    "",
    "<!-- Generated from src/plan/schema.ts by `npm run docs:plan`. Do not edit by hand: a test fails when this page is stale. -->",
    "",
    ...INTRO,
    "",
  ];
  for (const [section, sectionRows] of sections) {
    lines.push(section === "" ? "## Top level" : `## \`${section}\``, "");
    lines.push("| key | type | default | meaning |", "|---|---|---|---|");
    for (const row of sectionRows) {
      lines.push(`| \`${row.key}\` | ${cell(row.type)} | ${cell(row.default)} | ${cell(row.description)} |`);
    }
    lines.push("");
  }
  if (removed.length > 0) {
    lines.push(
      "## Removed keys",
      "",
      "A plan that still has one of these is rejected with the message below.",
      "",
    );
    lines.push("| key | message |", "|---|---|");
    for (const row of removed) lines.push(`| \`${row.key}\` | ${cell(row.description)} |`);
    lines.push("");
  }
  return `${lines.join("\n").trimEnd()}\n`;
}

/** A table cell: pipes escaped, and mentions of other pages turned into links (this page is in docs/). */
function cell(text: string): string {
  return text
    .replaceAll("|", "\\|")
    .replaceAll("\n", " ")
    .replace(/\bdocs\/([\w-]+\.md)\b/g, "[$1]($1)");
}
