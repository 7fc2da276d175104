import type { PlanIssue } from "./issues.js";
import type { PlanPath } from "./source-map.js";

/**
 * `${VAR}` and `${VAR:-default}` in string values, as in shells and compose files; `$$` is a
 * literal `$`. Expansion happens after YAML parsing, so a variable's value can never change the
 * structure of the plan. A reference that is the whole value may become a number or boolean.
 */
const REFERENCE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{([^}]*)\}?/g;

export function expandEnvironment(
  value: unknown,
  env: Record<string, string | undefined>,
  parseWhole: (text: string) => unknown,
): { value: unknown; issues: PlanIssue[] } {
  const issues: PlanIssue[] = [];

  const expandString = (text: string, path: PlanPath): unknown => {
    if (!text.includes("$")) return text;
    const whole = /^\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}$/.test(text);
    const out = text.replace(REFERENCE, (match, name?: string, fallback?: string) => {
      if (match === "$$") return "$";
      if (name === undefined) {
        issues.push({
          path,
          message: `"${match}" is not a valid variable reference (use \${NAME} or \${NAME:-default})`,
        });
        return match;
      }
      const found = env[name];
      if (found !== undefined && found !== "") return found;
      if (fallback !== undefined) return fallback;
      // Empty counts as unset, as in ${VAR:-default}; the message says which it was.
      const state = found === "" ? "is set but empty" : "is not set";
      issues.push({
        path,
        message: `environment variable ${name} ${state} (set it, add it to a .env file next to the plan, or write \${${name}:-default})`,
      });
      return match;
    });
    return whole ? parseWhole(out) : out;
  };

  const walk = (node: unknown, path: PlanPath): unknown => {
    if (typeof node === "string") return expandString(node, path);
    if (Array.isArray(node)) return node.map((item, i) => walk(item, [...path, i]));
    if (node !== null && typeof node === "object") {
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v, [...path, k])]));
    }
    return node;
  };

  return { value: walk(value, []), issues };
}
