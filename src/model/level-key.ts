import type { LoadMode } from "./types.js";

/** A benchmark level: per-client concurrency ("conc16") or per-client request rate ("rr2.5"). */
export interface LevelId {
  mode: LoadMode;
  value: number;
  key: string;
}

const LEVEL_KEY = /^(conc|rr)(\d+(?:\.\d+)?)$/;

export function levelKey(mode: LoadMode, value: number): string {
  return `${mode === "concurrency" ? "conc" : "rr"}${value}`;
}

/** Parses a file stem such as "conc16" or "rr2.5"; undefined for anything else. */
export function parseLevelKey(stem: string): LevelId | undefined {
  const match = LEVEL_KEY.exec(stem);
  if (!match) return undefined;
  const value = Number(match[2]);
  const mode: LoadMode = match[1] === "conc" ? "concurrency" : "request-rate";
  return { mode, value, key: stem };
}

/** Concurrency levels first, then rates; each ascending. */
export function compareLevels(a: LevelId, b: LevelId): number {
  if (a.mode !== b.mode) return a.mode === "concurrency" ? -1 : 1;
  return a.value - b.value;
}
