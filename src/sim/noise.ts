import { hashInts, Random } from "../random.js";
import type { NoiseConfig } from "./config.js";

/**
 * What makes a simulated replica behave like a real, noisy one: its engine steps take a random
 * multiple of their nominal time (jitter), and for a while it may run slower (a slowdown episode,
 * like a neighbour stealing the GPU or a thermal throttle). Everything is drawn from the seed and
 * the replica's index, so a seed reproduces the same noise.
 *
 * Jitter is log-normal with mean 1 and relative standard deviation `step_jitter`. With
 * `jitter_period_ms` 0 every step draws its own factor, which averages out within a level; with a
 * period, one factor holds for that long, so whole stretches of a level (and whole levels) run
 * faster or slower: the between-run noise real engines show. The slowdown's clock starts at the
 * replica's first request, so "after_s: 5" means five seconds into the replica's first work.
 */
export class StepNoise {
  private readonly perStep: Random;
  private readonly sigma: number;
  private origin: number | undefined;

  constructor(
    private readonly config: NoiseConfig,
    private readonly seed: number,
    private readonly replica: number,
  ) {
    // Log-normal: ln X ~ N(−σ²/2, σ²) has mean 1 and relative sd sqrt(exp(σ²) − 1) = step_jitter.
    this.sigma = Math.sqrt(Math.log(1 + config.step_jitter ** 2));
    this.perStep = Random.stream(seed, `step-jitter-${replica}`);
  }

  /** True when the noise changes nothing (the default): the engine skips it entirely. */
  static isQuiet(config: NoiseConfig): boolean {
    return config.step_jitter === 0 && (config.slowdown === undefined || config.slowdown.factor === 1);
  }

  /** The factor by which the step that starts at `start` (clock ms) is longer than nominal. */
  multiplier(start: number): number {
    this.origin ??= start;
    const elapsed = start - this.origin;
    return this.jitter(elapsed) * this.slowdown(elapsed);
  }

  private jitter(elapsed: number): number {
    if (this.sigma === 0) return 1;
    const period = this.config.jitter_period_ms;
    const [u1, u2] =
      period > 0
        ? this.periodUniforms(Math.floor(elapsed / period))
        : [this.perStep.next(), this.perStep.next()];
    const z = Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
    return Math.exp(this.sigma * z - (this.sigma * this.sigma) / 2);
  }

  /** Two uniforms fixed by (seed, replica, period): the same period always gets the same factor. */
  private periodUniforms(period: number): [number, number] {
    const a = hashInts(this.seed, [this.replica, period, 1]);
    const b = hashInts(this.seed, [this.replica, period, 2]);
    return [a / 4294967296, b / 4294967296];
  }

  private slowdown(elapsed: number): number {
    const episode = this.config.slowdown;
    if (!episode) return 1;
    const from = episode.after_s * 1000;
    const until =
      episode.duration_s === undefined ? Number.POSITIVE_INFINITY : from + episode.duration_s * 1000;
    return elapsed >= from && elapsed < until ? episode.factor : 1;
  }
}
