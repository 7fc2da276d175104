import { createHash, randomBytes } from "node:crypto";

/**
 * Seeded randomness, for the benchmark client (prompts, arrival schedules) and the simulator
 * (routing, faults, noise) alike. Every random choice draws from a stream whose seed derives
 * from one run seed, so the seed recorded in a run's files reproduces it exactly, while parts,
 * levels and purposes never share a stream (two parts sending the same prompts would let a
 * prefix cache serve one part's prompts from the other's).
 */

/** A fresh 32-bit run seed, for runs that were not given one. */
export function freshSeed(): number {
  return randomBytes(4).readUInt32LE(0);
}

/**
 * A seed for a named sub-stream ("part3", "conc16") of a parent seed. Stable across versions,
 * because recorded run seeds must keep reproducing the same prompts.
 */
export function deriveSeed(parent: number, ...labels: Array<string | number>): number {
  const hash = createHash("sha256")
    .update(`${parent >>> 0}/${labels.join("/")}`)
    .digest();
  return hash.readUInt32LE(0);
}

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

/** Hash of a sequence of integers (order matters); cheap enough for the simulator's hot path. */
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

/**
 * sfc32: small and fast enough for a simulated replica's hot path, with a 128-bit state that
 * passes PractRand. Not for anything secret.
 */
export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 15; i++) this.nextUint32(); // mix the seed into every word
  }

  /** A stream for one purpose (e.g. "routing"), independent of the other streams of the same seed. */
  static stream(seed: number, purpose: string): Random {
    return new Random(hashString(seed, purpose));
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Exponential with the given mean. */
  exponential(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }

  /** Standard normal (Box–Muller; one value per call keeps the stream simple to reproduce). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Gamma(shape, scale) by Marsaglia and Tsang; shape < 1 via the boost x·U^(1/shape). */
  gamma(shape: number, scale: number): number {
    if (shape < 1) return this.gamma(shape + 1, scale) * (1 - this.next()) ** (1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = 1 - this.next();
      if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v * scale;
    }
  }
}
