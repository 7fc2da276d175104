import { createHash, randomBytes } from "node:crypto";

/**
 * Seeded randomness for workloads and arrival schedules. Every run, part and level derives its own
 * seed from the run seed, so a run can be reproduced exactly from the seed recorded in its files,
 * while parts never send the same prompts (which would let a prefix cache serve one part's
 * prompts from another's).
 */

/** A fresh 32-bit run seed, for runs that were not given one. */
export function freshSeed(): number {
  return randomBytes(4).readUInt32LE(0);
}

/** A seed for a named sub-stream ("part3", "conc16") of a parent seed; stable across versions. */
export function deriveSeed(parent: number, ...labels: Array<string | number>): number {
  const hash = createHash("sha256")
    .update(`${parent >>> 0}/${labels.join("/")}`)
    .digest();
  return hash.readUInt32LE(0);
}

/** sfc32: small, fast, and good enough for prompts and arrival times. Not for anything secret. */
export class Rng {
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

  /** Uniform integer in [min, max). */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min));
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
