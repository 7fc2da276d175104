/**
 * One LLM replica: a continuous-batching engine in the manner of vLLM's scheduler, driven by a
 * single timer (one wake-up per engine step, whatever the number of sequences).
 *
 * Every step, at its planned start time:
 *   1. admit waiting sequences first-come first-served while a slot (`max_num_seqs`) and KV budget
 *      (prompt + max_tokens, reserved at admission, so nothing is ever preempted) are free; the
 *      head of the queue blocks the rest, as in vLLM;
 *   2. give every decoding sequence one token of the step's `max_num_batched_tokens` budget, and
 *      the rest to prompt chunks of prefilling sequences, oldest first (chunked prefill);
 *   3. the step lasts `decode_base_ms + decode_per_seq_ms × decoding + prefill_ms_per_token ×
 *      prefill tokens`. At its end each decoding sequence gets one token, and each sequence whose
 *      prefill completed gets its first token.
 * The next step starts when the previous one ends, on absolute times: a timer that fires late
 * does not stretch the schedule, so the token rate matches the formula over any window. Only
 * when the process fell more than `max_schedule_lag_ms` behind (it was stopped or starved) does
 * the schedule restart from now, rather than replaying a burst of missed steps.
 */
import type { Clock, TimerHandle } from "../clock.js";
import type { EngineConfig } from "./config.js";
import type { StepNoise } from "./noise.js";
import { PrefixCache } from "./prefix-cache.js";

export interface SequenceSink {
  /**
   * Token number `generated` (1-based) was produced by the step that ended at `time` (the planned
   * time; the real clock may be slightly later). `last` marks the final token.
   */
  onToken(time: number, generated: number, last: boolean): void;
}

export interface SequenceRequest {
  promptLength: number;
  /** Tokens to generate (at least 1); the sequence finishes after the last. */
  outputTokens: number;
  /** Block hashes of the prompt, when prefix caching is on (see PrefixCache.blockHashes). */
  blockHashes?: readonly number[];
  sink: SequenceSink;
}

export interface SequenceHandle {
  /** Removes the sequence (waiting or running) and frees its slot and KV at once. */
  cancel(): void;
  /** When the sequence was admitted (undefined while it waits). */
  readonly admittedAt: number | undefined;
  readonly cachedTokens: number;
}

class Sequence implements SequenceHandle {
  remainingPrefill: number;
  generated = 0;
  cachedTokens = 0;
  admittedAt: number | undefined;
  state: "waiting" | "running" | "done" = "waiting";
  /** Prompt tokens this sequence prefills in the current step. */
  stepPrefill = 0;

  constructor(
    readonly request: SequenceRequest,
    private readonly engine: Engine,
  ) {
    this.remainingPrefill = request.promptLength;
  }

  get kvTokens(): number {
    return this.request.promptLength + this.request.outputTokens;
  }

  cancel(): void {
    this.engine.cancel(this);
  }
}

export interface EngineStats {
  /** Sequences admitted into a slot. */
  admitted: number;
  finished: number;
  cancelled: number;
  tokensGenerated: number;
  /** Prompt tokens actually computed (cache hits excluded). */
  prefillTokens: number;
  cachedPromptTokens: number;
  steps: number;
  busyMs: number;
  running: number;
  waiting: number;
  kvTokensInUse: number;
  maxRunning: number;
  /**
   * The most a step's end was handled after its planned time, ms: on the real clock timers fire
   * late and a starved process falls behind (the plan itself does not move).
   */
  maxStepLagMs: number;
}

export class Engine {
  private readonly waiting: Sequence[] = [];
  private waitingHead = 0;
  private readonly running: Sequence[] = [];
  private kvInUse = 0;
  private timer: TimerHandle | undefined;
  /** Sequences decoding / prefilling in the step in flight. */
  private stepDecoders: Sequence[] = [];
  private stepPrefillers: Sequence[] = [];
  private readonly prefixCache: PrefixCache | undefined;
  private closed = false;
  /** True while a step's results are handed out (sinks may submit new work meanwhile). */
  private stepping = false;
  private readonly counters = {
    admitted: 0,
    finished: 0,
    cancelled: 0,
    tokensGenerated: 0,
    prefillTokens: 0,
    cachedPromptTokens: 0,
    steps: 0,
    busyMs: 0,
    maxRunning: 0,
    maxStepLagMs: 0,
  };

  constructor(
    private readonly config: EngineConfig,
    private readonly clock: Clock,
    private readonly maxScheduleLagMs = 250,
    /** Step-time jitter and slowdowns of a noisy replica; absent = every step takes its nominal time. */
    private readonly noise?: StepNoise,
  ) {
    if (config.enable_prefix_caching) {
      const capacity = config.prefix_cache_blocks ?? Math.floor(config.kv_cache_tokens / config.block_size);
      this.prefixCache = new PrefixCache(capacity, config.block_size);
    }
  }

  /** The prefix cache's block hashes for a prompt, or undefined when caching is off. */
  blockHashes(tokenIds: readonly number[]): number[] | undefined {
    return this.prefixCache?.blockHashes(tokenIds);
  }

  /** Queues a sequence; it joins the next step that has room for it. */
  submit(request: SequenceRequest): SequenceHandle {
    if (this.closed) throw new Error("engine is closed");
    if (request.outputTokens < 1) throw new Error("outputTokens must be at least 1");
    if (request.promptLength + request.outputTokens > this.config.kv_cache_tokens) {
      throw new Error("sequence does not fit in the KV cache");
    }
    const sequence = new Sequence(request, this);
    this.waiting.push(sequence);
    // Start on a timer at "now" rather than synchronously, so requests arriving in the same tick
    // share their first step, as they would in a real engine's next scheduling round.
    if (!this.timer && !this.stepping) {
      const arrival = this.clock.now();
      this.timer = this.clock.at(arrival, () => this.planStep(this.onSchedule(arrival)));
    }
    return sequence;
  }

  cancel(sequence: Sequence): void {
    if (sequence.state === "done") return;
    if (sequence.state === "running") {
      this.running.splice(this.running.indexOf(sequence), 1);
      this.kvInUse -= sequence.kvTokens;
    } else {
      const index = this.waiting.indexOf(sequence, this.waitingHead);
      if (index >= 0) this.waiting.splice(index, 1);
    }
    sequence.state = "done";
    this.counters.cancelled += 1;
  }

  stats(): EngineStats {
    return {
      ...this.counters,
      running: this.running.length,
      waiting: this.waiting.length - this.waitingHead,
      kvTokensInUse: this.kvInUse,
    };
  }

  prefixCacheStats(): { queriedTokens: number; hitTokens: number; blocks: number } | undefined {
    const cache = this.prefixCache;
    return cache && { queriedTokens: cache.queriedTokens, hitTokens: cache.hitTokens, blocks: cache.size };
  }

  close(): void {
    this.closed = true;
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Plans the step that starts at `start` and arms the timer for its end, or goes idle. */
  private planStep(start: number): void {
    this.timer = undefined;
    if (this.closed) return;
    this.admit(start);
    const decoders: Sequence[] = [];
    const prefillers: Sequence[] = [];
    let budget = this.config.max_num_batched_tokens;
    for (const sequence of this.running) {
      if (sequence.remainingPrefill === 0) decoders.push(sequence);
    }
    budget -= decoders.length;
    let prefillTokens = 0;
    for (const sequence of this.running) {
      if (budget <= 0) break;
      if (sequence.remainingPrefill === 0) continue;
      const take = Math.min(sequence.remainingPrefill, budget);
      sequence.stepPrefill = take;
      prefillers.push(sequence);
      prefillTokens += take;
      budget -= take;
    }
    if (decoders.length === 0 && prefillers.length === 0) return; // idle until the next submit
    const nominal =
      this.config.decode_base_ms +
      this.config.decode_per_seq_ms * decoders.length +
      this.config.prefill_ms_per_token * prefillTokens;
    const duration = this.noise ? nominal * this.noise.multiplier(start) : nominal;
    this.stepDecoders = decoders;
    this.stepPrefillers = prefillers;
    this.counters.steps += 1;
    this.counters.busyMs += duration;
    this.counters.prefillTokens += prefillTokens;
    const end = start + duration;
    this.timer = this.clock.at(end, () => this.finishStep(end));
  }

  private admit(now: number): void {
    const { max_num_seqs, kv_cache_tokens } = this.config;
    while (this.waitingHead < this.waiting.length && this.running.length < max_num_seqs) {
      const sequence = this.waiting[this.waitingHead]!;
      if (this.kvInUse + sequence.kvTokens > kv_cache_tokens) break;
      this.waitingHead += 1;
      sequence.state = "running";
      sequence.admittedAt = now;
      this.kvInUse += sequence.kvTokens;
      this.running.push(sequence);
      this.counters.admitted += 1;
      const hashes = sequence.request.blockHashes;
      if (this.prefixCache && hashes) {
        sequence.cachedTokens = this.prefixCache.lookup(hashes, sequence.request.promptLength);
        sequence.remainingPrefill -= sequence.cachedTokens;
        this.counters.cachedPromptTokens += sequence.cachedTokens;
      }
    }
    if (this.running.length > this.counters.maxRunning) this.counters.maxRunning = this.running.length;
    // Compact the queue now and then instead of shifting on every admission.
    if (this.waitingHead > 1024 && this.waitingHead * 2 > this.waiting.length) {
      this.waiting.splice(0, this.waitingHead);
      this.waitingHead = 0;
    }
  }

  private finishStep(end: number): void {
    this.timer = undefined;
    if (this.closed) return;
    this.counters.maxStepLagMs = Math.max(this.counters.maxStepLagMs, this.clock.now() - end);
    const decoders = this.stepDecoders;
    const prefillers = this.stepPrefillers;
    this.stepDecoders = [];
    this.stepPrefillers = [];
    this.stepping = true;
    try {
      for (const sequence of prefillers) {
        if (sequence.state !== "running") continue; // cancelled during the step
        sequence.remainingPrefill -= sequence.stepPrefill;
        sequence.stepPrefill = 0;
        if (sequence.remainingPrefill > 0) continue;
        if (this.prefixCache && sequence.request.blockHashes)
          this.prefixCache.insert(sequence.request.blockHashes);
        this.emit(sequence, end);
      }
      for (const sequence of decoders) {
        if (sequence.state === "running") this.emit(sequence, end);
      }
    } finally {
      this.stepping = false;
      this.planStep(this.onSchedule(end));
    }
  }

  /** The planned time, unless the process fell so far behind that replaying the backlog would burst. */
  private onSchedule(planned: number): number {
    const now = this.clock.now();
    return now - planned > this.maxScheduleLagMs ? now : planned;
  }

  private emit(sequence: Sequence, time: number): void {
    sequence.generated += 1;
    this.counters.tokensGenerated += 1;
    const last = sequence.generated >= sequence.request.outputTokens;
    if (last) {
      sequence.state = "done";
      this.running.splice(this.running.indexOf(sequence), 1);
      this.kvInUse -= sequence.kvTokens;
      this.counters.finished += 1;
    }
    sequence.request.sink.onToken(time, sequence.generated, last);
  }
}
