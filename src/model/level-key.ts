import type { LoadMode } from "./types.js";

/**
 * A benchmark level: per-client concurrency ("conc16"), per-client request rate ("rr2.5"), or a
 * trace's replay speed ("speed2").
 */
export interface LevelId {
  mode: LoadMode;
  value: number;
  key: string;
}

const LEVEL_KEY = /^(conc|rr|speed)(\d+(?:\.\d+)?)$/;

const PREFIX: Record<LoadMode, string> = { concurrency: "conc", "request-rate": "rr", replay: "speed" };
const MODE_OF: Record<string, LoadMode> = { conc: "concurrency", rr: "request-rate", speed: "replay" };
const ORDER: Record<LoadMode, number> = { concurrency: 0, "request-rate": 1, replay: 2 };

export function levelKey(mode: LoadMode, value: number): string {
  return `${PREFIX[mode]}${value}`;
}

/** Parses a file stem such as "conc16" or "rr2.5"; undefined for anything else. */
export function parseLevelKey(stem: string): LevelId | undefined {
  const match = LEVEL_KEY.exec(stem);
  if (!match) return undefined;
  const value = Number(match[2]);
  const mode = MODE_OF[match[1]!]!;
  return { mode, value, key: stem };
}

/** Concurrency levels first, then rates, then replay speeds; each ascending. */
export function compareLevels(a: LevelId, b: LevelId): number {
  if (a.mode !== b.mode) return ORDER[a.mode] - ORDER[b.mode];
  return a.value - b.value;
}
