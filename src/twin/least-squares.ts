/**
 * Levenberg–Marquardt for a handful of positive parameters, fitted in log space (so a step is a
 * relative change and no parameter can turn negative). The model is a simulation: each residual
 * evaluation is costly, so the Jacobian is taken by forward differences with a relative step big
 * enough to rise above the simulation's discreteness, and the loop stops after a few iterations
 * once the cost stops falling.
 */

export interface LeastSquaresOptions {
  maxIterations?: number;
  /** Relative step of the finite differences (in log space). */
  step?: number;
  /** Stop when an accepted step lowers the cost by less than this fraction. */
  tolerance?: number;
}

export interface LeastSquaresResult {
  params: number[];
  residuals: number[];
  cost: number;
  evaluations: number;
}

export function fitLeastSquares(
  residualsOf: (params: number[]) => number[],
  start: number[],
  options: LeastSquaresOptions = {},
): LeastSquaresResult {
  const { maxIterations = 12, step = 0.03, tolerance = 1e-4 } = options;
  let evaluations = 0;
  const evaluate = (logs: number[]) => {
    evaluations += 1;
    return residualsOf(logs.map(Math.exp));
  };
  let x = start.map(Math.log);
  let r = evaluate(x);
  let cost = sumOfSquares(r);
  let lambda = 1e-2;
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    const jacobian = x.map((_, j) => {
      const shifted = [...x];
      shifted[j]! += step;
      const rj = evaluate(shifted);
      return rj.map((value, i) => (value - r[i]!) / step);
    });
    // Normal equations (Jᵀ J + λ diag(Jᵀ J)) δ = −Jᵀ r, columns indexed by parameter.
    const n = x.length;
    const jtj = Array.from({ length: n }, (_, a) =>
      Array.from({ length: n }, (_, b) => dot(jacobian[a]!, jacobian[b]!)),
    );
    const jtr = jacobian.map((column) => dot(column, r));
    let improved = false;
    for (let attempt = 0; attempt < 6; attempt++) {
      const damped = jtj.map((row, a) =>
        row.map((value, b) => (a === b ? value * (1 + lambda) + 1e-12 : value)),
      );
      const delta = solve(
        damped,
        jtr.map((v) => -v),
      );
      // A relative change of more than a factor e per iteration is a leap in the dark.
      const candidate = x.map((value, j) => value + Math.max(-1, Math.min(1, delta[j]!)));
      const rc = evaluate(candidate);
      const candidateCost = sumOfSquares(rc);
      if (candidateCost < cost) {
        const gain = (cost - candidateCost) / cost;
        x = candidate;
        r = rc;
        cost = candidateCost;
        lambda = Math.max(lambda / 3, 1e-6);
        improved = gain > tolerance;
        break;
      }
      lambda *= 4;
    }
    if (!improved) break;
  }
  return { params: x.map(Math.exp), residuals: r, cost, evaluations };
}

function sumOfSquares(values: number[]): number {
  return values.reduce((sum, v) => sum + v * v, 0);
}

function dot(a: number[], b: number[]): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

/** Gaussian elimination with partial pivoting; the matrix is small and positive definite. */
function solve(matrix: number[][], rhs: number[]): number[] {
  const n = rhs.length;
  const a = matrix.map((row, i) => [...row, rhs[i]!]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let row = col + 1; row < n; row++)
      if (Math.abs(a[row]![col]!) > Math.abs(a[pivot]![col]!)) pivot = row;
    [a[col], a[pivot]] = [a[pivot]!, a[col]!];
    const p = a[col]![col]!;
    if (Math.abs(p) < 1e-18) continue;
    for (let row = 0; row < n; row++) {
      if (row === col) continue;
      const factor = a[row]![col]! / p;
      for (let k = col; k <= n; k++) a[row]![k]! -= factor * a[col]![k]!;
    }
  }
  return a.map((row, i) => (Math.abs(row[i]!) < 1e-18 ? 0 : row[n]! / row[i]!));
}
