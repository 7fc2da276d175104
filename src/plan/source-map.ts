import { type Document, isMap, isPair, isScalar, isSeq, type LineCounter, type Node } from "yaml";

export type PlanPath = ReadonlyArray<string | number>;

/** "images.0.env" — how paths appear in messages. */
export function dottedPath(path: PlanPath): string {
  return path.length === 0 ? "(top level)" : path.join(".");
}

export interface Position {
  line: number;
  col: number;
}

/**
 * Finds where in the YAML text a value is, so every message can say file:line:col. A missing
 * value points at the map that should hold it; an unknown key points at the key itself.
 */
export class SourceMap {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  locate(path: PlanPath, unknownKey?: string): Position {
    let node: unknown = this.doc.contents;
    let offset = rangeStart(node) ?? 0;
    for (const segment of path) {
      const child = childOf(node, segment);
      if (!child) break;
      offset = rangeStart(child.value) ?? rangeStart(child.key) ?? offset;
      node = child.value;
    }
    if (unknownKey !== undefined && isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === unknownKey);
      offset = rangeStart(pair?.key) ?? offset;
    }
    return this.lines.linePos(offset);
  }
}

function childOf(node: unknown, segment: string | number): { key?: unknown; value: unknown } | undefined {
  if (isMap(node)) {
    const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
    return pair ? { key: pair.key, value: pair.value } : undefined;
  }
  if (isSeq(node) && typeof segment === "number") {
    const item = node.items[segment];
    return item === undefined ? undefined : { value: isPair(item) ? item.value : item };
  }
  return undefined;
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Node | null | undefined)?.range;
  return range ? range[0] : undefined;
}
