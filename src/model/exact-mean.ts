/**
 * Python's `statistics.mean` (which the seed's aggregator used) sums floats exactly and rounds the
 * mean once. A plain `sum / n` in JavaScript differs in the last bit for about one value in eight of
 * the published files, so to reproduce the seed's numbers exactly we do the same: exact rational
 * arithmetic on the binary values, then one correctly rounded conversion.
 */

const SCALE_BITS = 1074; // every finite double is an integer multiple of 2^-1074

/** x × 2^1074 as an exact integer. */
function scaledInteger(x: number): bigint {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const negative = bits >> 63n === 1n;
  const exponentField = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  const mantissa = exponentField === 0 ? fraction : fraction | (1n << 52n);
  const shift = exponentField === 0 ? 0 : exponentField - 1; // (exponentField - 1075) + 1074
  const magnitude = mantissa << BigInt(shift);
  return negative ? -magnitude : magnitude;
}

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/** The mean of `values`, correctly rounded, as Python's statistics.mean computes it. */
export function exactMean(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError("mean of no values");
  if (values.some((v) => !Number.isFinite(v))) return values.reduce((a, b) => a + b, 0) / values.length;

  let sum = 0n;
  for (const v of values) sum += scaledInteger(v);
  if (sum === 0n) return 0;
  const negative = sum < 0n;
  const magnitude = negative ? -sum : sum;
  const count = BigInt(values.length);

  // Divide with at least 66 significant bits in the quotient, then keep 64 bits plus a sticky bit
  // so that Number() (round-half-even on BigInt) rounds exactly as the true rational would.
  const extra = Math.max(0, 66 - (bitLength(magnitude) - bitLength(count)));
  const numerator = magnitude << BigInt(extra);
  let quotient = numerator / count;
  let inexact = numerator % count !== 0n;
  const drop = Math.max(0, bitLength(quotient) - 64);
  if (drop > 0) {
    inexact ||= (quotient & ((1n << BigInt(drop)) - 1n)) !== 0n;
    quotient >>= BigInt(drop);
  }
  if (inexact) quotient |= 1n;

  const exponent = drop - extra - SCALE_BITS;
  // Scale in two steps so no intermediate power of two underflows.
  const half = Math.trunc(exponent / 2);
  const result = Number(quotient) * 2 ** half * 2 ** (exponent - half);
  return negative ? -result : result;
}
