import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The shape of src/ that docs/architecture.md describes, pinned: commands stay thin and nothing
 * depends on them, and the top-level folders form no import cycle (each one can be read, and
 * changed, knowing only what it imports).
 */

const SRC = resolve(import.meta.dirname, "../../src");
/** The CLI entry maps argv to commands; it is the one file allowed to import them. */
const COMMAND_ENTRY = "cli.ts";

interface ImportEdge {
  from: string;
  to: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s*["'](\.{1,2}\/[^"']+)["']|\bimport\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g;

function importEdges(): ImportEdge[] {
  return sourceFiles(SRC).flatMap((file) => {
    const text = readFileSync(file, "utf8");
    return [...text.matchAll(IMPORT)].map((match) => ({
      from: relative(SRC, file),
      to: relative(SRC, resolve(dirname(file), (match[1] ?? match[2])!.replace(/\.js$/, ".ts"))),
    }));
  });
}

/** "bench/client.ts" → "bench"; a file directly in src/ is its own unit. */
function folderOf(path: string): string {
  const parts = path.split("/");
  return parts.length > 1 ? parts[0]! : path;
}

function findCycle(graph: Map<string, Set<string>>): string[] | undefined {
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === "done") return undefined;
    if (state.get(node) === "visiting") return [...stack.slice(stack.indexOf(node)), node];
    state.set(node, "visiting");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(node, "done");
    return undefined;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

describe("the shape of src/", () => {
  const edges = importEdges();

  it("reads the imports it checks (a parser that sees none would pass anything)", () => {
    expect(edges.length).toBeGreaterThan(200);
    expect(edges).toContainEqual({ from: "cli.ts", to: "commands/index.ts" });
  });

  it("has no file outside src/commands/ importing from it, but the CLI entry", () => {
    const offenders = edges
      .filter((edge) => edge.to.startsWith("commands/") && !edge.from.startsWith("commands/"))
      .filter((edge) => edge.from !== COMMAND_ENTRY)
      .map((edge) => `${edge.from} → ${edge.to}`);
    expect(offenders).toEqual([]);
  });

  it("has no import cycle between top-level folders", () => {
    const graph = new Map<string, Set<string>>();
    for (const { from, to } of edges) {
      const a = folderOf(from);
      const b = folderOf(to);
      if (a === b) continue;
      if (!graph.has(a)) graph.set(a, new Set());
      graph.get(a)!.add(b);
    }
    const cycle = findCycle(graph);
    const witnesses = cycle?.slice(1).map((to, i) => {
      const from = cycle[i]!;
      const edge = edges.find((e) => folderOf(e.from) === from && folderOf(e.to) === to);
      return `${from} → ${to} (${edge?.from} imports ${edge?.to})`;
    });
    expect(witnesses ?? []).toEqual([]);
  });
});
