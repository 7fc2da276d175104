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
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
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
  /** Rendered default, "required", or "—" (optional, no default). */
  default: string;
  description: string;
}

const SECTION_ORDER_NOTE =
  "Top-level keys first, then one table per section. A key shown as `required` has no default.";

export function planKeyRows(): PlanKeyRow[] {
  const root = z.toJSONSchema(planSchema, { io: "input", unrepresentable: "any" }) as JsonSchema;
  const rows: PlanKeyRow[] = [];
  const missing: string[] = [];
  walkObject(root, "", rows, missing);
  if (missing.length > 0) {
    throw new Error(
      `plan schema keys without a description (add .describe() in schema.ts): ${missing.join(", ")}`,
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
      type: typeName(child),
      default: defaultText(child, required.has(name)),
      description: description ?? "",
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
  if (schema.enum) return schema.enum.map((value) => `\`${String(value)}\``).join(" or ");
  if (schema.anyOf) return [...new Set(schema.anyOf.map(typeName))].join(" or ");
  const type = Array.isArray(schema.type) ? schema.type.join(" or ") : schema.type;
  switch (type) {
    case "integer":
      return withRange("whole number", schema);
    case "number":
      return withRange("number", schema);
    case "array":
      return schema.items ? `list of ${plural(typeName(schema.items))}` : "list";
    case "object":
      if (schema.properties) return "map";
      if (schema.additionalProperties && typeof schema.additionalProperties === "object") {
        const values = typeName(schema.additionalProperties);
        return values ? `map of name → ${values}` : "map";
      }
      return "map";
    default:
      return type ?? "any";
  }
}

function withRange(base: string, schema: JsonSchema): string {
  if (schema.exclusiveMinimum === 0) return `${base} > 0`;
  if (schema.minimum === 0) return `${base} ≥ 0`;
  if (schema.minimum === 1 && base === "whole number") return "whole number ≥ 1";
  return base;
}

function plural(type: string): string {
  if (type === "map") return "maps";
  if (type.startsWith("whole number")) return type.replace("whole number", "whole numbers");
  if (type.startsWith("number")) return type.replace("number", "numbers");
  if (type === "string") return "strings";
  return type;
}

function defaultText(schema: JsonSchema, required: boolean): string {
  if (schema.default !== undefined) {
    const value = schema.default;
    if (
      typeof value === "object" &&
      value !== null &&
      !Array.isArray(value) &&
      Object.keys(value).length === 0
    ) {
      return schema.properties ? "(section)" : "`{}`";
    }
    return `\`${typeof value === "string" ? value : JSON.stringify(value)}\``;
  }
  return required ? "required" : "—";
}

/** The whole page, deterministic (the test compares it byte for byte with docs/plan.md). */
export function renderPlanReference(): string {
  const rows = planKeyRows();
  const sections = new Map<string, PlanKeyRow[]>();
  for (const row of rows) {
    const section = row.key.includes(".") || row.key.includes("[]") ? row.key.split(/[.[]/)[0] : "";
    const list = sections.get(section ?? "") ?? [];
    list.push(row);
    sections.set(section ?? "", list);
  }
  const lines = [
    "# Plan file reference",
    "",
    "<!-- Generated from src/plan/schema.ts by `npm run docs:plan`. Do not edit by hand: a test fails when this page is stale. -->",
    "",
    "A plan is one YAML file that describes one experiment. Every map is strict: an unknown key is an",
    'error with a "did you mean". `${VAR}` and `${VAR:-default}` are expanded from the environment',
    "and from a `.env` file beside the plan; `$$` is a literal `$`. Cross-field rules (sizes that must",
    "fit on the nodes, prefix caching, service names) are checked after the keys below.",
    "",
    SECTION_ORDER_NOTE,
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
  return `${lines.join("\n").trimEnd()}\n`;
}

function cell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}
