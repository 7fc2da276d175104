/**
 * Seeded randomness. Every random choice of the simulator (routing, faults, generated text,
 * request ids) comes from here, so one seed reproduces a run. Small and fast on purpose: a
 * replica draws numbers on the hot path.
 */

/** A 32-bit integer hash (Murmur3's finaliser), good enough to decorrelate nearby inputs. */
export function mix32(value: number): number {
  let h = value | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hash of a sequence of integers (order matters). */
export function hashInts(seed: number, values: ArrayLike<number>, from = 0, to = values.length): number {
  let h = mix32(seed ^ 0x9e3779b9);
  for (let i = from; i < to; i++) {
    h = mix32(h ^ Math.imul((values[i] as number) | 0, 0x27d4eb2d));
  }
  return h;
}

/** Hash of a string, e.g. to give each named random stream its own seed. */
export function hashString(seed: number, text: string): number {
  let h = mix32(seed ^ 0x51ed27);
  for (let i = 0; i < text.length; i++) h = mix32(h ^ Math.imul(text.charCodeAt(i), 0x2c1b3c6d));
  return h;
}

/** Mulberry32: a tiny seeded PRNG with a 2^32 period, plenty for a simulator. */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A stream for one purpose (e.g. "routing"), independent of the other streams of the same seed. */
  static stream(seed: number, purpose: string): Random {
    return new Random(hashString(seed, purpose));
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }
}
