/**
 * The knee of a latency-vs-load curve: where latency stops growing slowly with load and starts
 * growing fast. Kneedle (Satopää, Albrecht, Irwin and Raghavan, 2011) on the measured points
 * without smoothing: both axes are normalised to [0, 1] over the points, and for a curve that bends
 * upwards the knee is the point lying furthest below the straight line from the first point to the
 * last (the largest x − y after normalising). A curve with fewer than three points, or one that
 * never falls below that line (straight, or bending the other way), has no knee.
 */

export interface CurvePoint {
  x: number;
  y: number;
}

/** The index of the knee among `points` (in load order), or undefined when the curve has none. */
export function kneeIndex(points: readonly CurvePoint[]): number | undefined {
  if (points.length < 3) return undefined;
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (x1 === x0 || y1 === y0) return undefined;
  let best: number | undefined;
  let bestGap = 0;
  points.forEach((p, i) => {
    const gap = (p.x - x0) / (x1 - x0) - (p.y - y0) / (y1 - y0);
    if (gap > bestGap) {
      bestGap = gap;
      best = i;
    }
  });
  return best;
}
