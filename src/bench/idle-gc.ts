/**
 * Garbage collections put where nothing is being timed: all of it before a level, and
 * young-generation collections where a schedule has room for them.
 *
 * A scavenge stops the client's event loop, and every send due meanwhile goes out late. Left to
 * V8, it comes when the young generation is full, wherever the schedule is: at 500 req/s a part
 * scavenged every ~8 s (with its 64 MB young generation, fleet.ts) and stopped for 13-40 ms, which
 * is what a 10 s replay at 1,000 req/s showed as its worst sends. An open loop and a replay know
 * when their next send is due, so before a wait long enough to hold one, this runs a minor
 * collection itself: then it is small (the garbage of a hundred or so requests: about 2 ms, at
 * most 5, measured) and falls between two sends. A closed loop has no such waits; it keeps V8's
 * own timing.
 *
 * It needs `gc`, which the fleet exposes in its parts (--expose-gc); without it nothing is done.
 */

/** A collection is worth running after this many sends (about 40 KB of garbage each). */
export const SENDS_PER_COLLECTION = 150;
/** Only before a wait at least this long (ms), so that the collection is over before the send. */
export const MIN_GAP_MS = 4;

/** V8's `gc`: a full collection without options (Node 20's V8 reads `{type: "major"}` as minor). */
type CollectFn = (options?: { type: "minor" }) => void;

/**
 * A full collection while nothing is measured. Everything the set-up left alive (the warm
 * connections, the workload's rows) is otherwise still in the young generation when the level
 * starts, and the level's first scavenge has to copy all of it: 25-40 ms in which no request is
 * sent and no chunk is read (seen at 1,000 req/s). After this the young generation is empty and a
 * scavenge copies only what the level itself has alive.
 */
export function collectGarbageBeforeLevel(collect: CollectFn | undefined = exposedGc()): void {
  collect?.();
}

export class IdleCollector {
  private sendsSince = 0;

  constructor(private readonly collect: CollectFn | undefined = exposedGc()) {}

  /** A request was sent. */
  sent(): void {
    this.sendsSince += 1;
  }

  /** The loop is about to wait `gapMs` for its next send: collect now if it is worth it. */
  beforeWait(gapMs: number): void {
    if (!this.collect || gapMs < MIN_GAP_MS || this.sendsSince < SENDS_PER_COLLECTION) return;
    this.collect({ type: "minor" });
    this.sendsSince = 0;
  }
}

function exposedGc(): CollectFn | undefined {
  const gc = (globalThis as { gc?: unknown }).gc;
  return typeof gc === "function" ? (gc as CollectFn) : undefined;
}
