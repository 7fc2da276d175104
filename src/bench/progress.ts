/**
 * Where a benchmark is, for the person watching: which level of the sweep, which repeat, how many
 * requests are done, how long the level has run and about how long it has left. One wording for
 * `orchestrate bench` and for a run's task list.
 */
export interface BenchProgress {
  /** The level's place on disk: "conc16", or with repeats "repeat2/conc16". */
  level: string;
  /** Requests finished (successful or not) across all parts, warm-up included. */
  done: number;
  /** Requests planned across all parts; for a level bounded by time, those issued so far. */
  total: number;
  failed: number;
  /** This level is number `position` of the sweep's `levels`, in repeat `repeat` of `repeats`. */
  position: number;
  levels: number;
  repeat: number;
  repeats: number;
  /** When the level's requests started (epoch ms). */
  startedAtMs: number;
  /** A level bounded by time instead of a request count: its length, seconds. */
  durationS?: number;
}

export function formatBenchProgress(p: BenchProgress, nowMs: number): string {
  const key = p.level.split("/").pop() ?? p.level;
  const where = [`level ${p.position} of ${p.levels}`];
  if (p.repeats > 1) where.push(`repeat ${p.repeat} of ${p.repeats}`);
  const elapsedS = Math.max(0, (nowMs - p.startedAtMs) / 1000);
  const parts = [`${p.done}/${p.total} requests`];
  if (p.failed > 0) parts.push(`${p.failed} failed`);
  parts.push(`${formatSeconds(elapsedS)} elapsed`);
  const leftS = secondsLeft(p, elapsedS);
  if (leftS !== undefined) parts.push(`about ${formatSeconds(leftS)} left`);
  return `${key} (${where.join(", ")}): ${parts.join(", ")}`;
}

/**
 * What is left of the level: the rest of its time when bounded by time; else the remaining
 * requests at the rate finished so far (nothing to go on before the first finishes).
 */
function secondsLeft(p: BenchProgress, elapsedS: number): number | undefined {
  if (p.durationS !== undefined) return Math.max(0, p.durationS - elapsedS);
  if (p.done === 0 || elapsedS === 0) return undefined;
  return (elapsedS * Math.max(0, p.total - p.done)) / p.done;
}

/** "42 s", "3 min 05 s", "1 h 02 min". */
export function formatSeconds(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
}
