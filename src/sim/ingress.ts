/**
 * One ingress replica (Ray Serve LLM's OpenAI router deployment): a single serial worker, like
 * the one Python event loop it really is. Accepting a request costs it `request_overhead_ms`;
 * forwarding each chunk of a stream back to the client costs `chunk_cost_ms`. Work waits its
 * turn, so an ingress asked for more than 1000 / chunk_cost_ms chunks per second falls behind,
 * and every stream through it slows down: the cap that a fixed ingress puts on a growing LLM
 * deployment.
 *
 * Cheap on real CPU: completion times are computed, not waited for one by one. Work that is due
 * within `granularityMs` runs at once; the rest waits on one timer per ingress replica.
 */
import type { Clock, TimerHandle } from "../clock.js";

interface Work {
  done: number;
  run: (time: number) => void;
}

export interface IngressStats {
  requests: number;
  chunks: number;
  /** Time spent on work already done. */
  busyMs: number;
  /** Work items waiting for the worker right now. */
  backlog: number;
  /** How far behind the worker is, in ms (0 when idle). */
  delayMs: number;
}

export class IngressReplica {
  private busyUntil = Number.NEGATIVE_INFINITY;
  private readonly queue: Work[] = [];
  private head = 0;
  private timer: TimerHandle | undefined;
  private closed = false;
  private readonly counters = { requests: 0, chunks: 0, busyMs: 0 };

  constructor(
    readonly index: number,
    private readonly clock: Clock,
    /** Work finishing this close to now is delivered at once instead of on a timer. */
    private readonly granularityMs: number,
  ) {}

  /** Spends `cost` ms of this replica's time on a request, from `at` or when it is free. */
  acceptRequest(at: number, cost: number, run: (time: number) => void): void {
    this.counters.requests += 1;
    this.schedule(at, cost, run);
  }

  /** Spends `cost` ms forwarding one chunk, then calls `run` with the time it leaves. */
  forwardChunk(at: number, cost: number, run: (time: number) => void): void {
    this.counters.chunks += 1;
    this.schedule(at, cost, run);
  }

  stats(): IngressStats {
    // Work runs back to back until busyUntil, so whatever lies beyond now is still to do.
    const delayMs = Math.max(0, this.busyUntil - this.clock.now());
    return {
      ...this.counters,
      busyMs: this.counters.busyMs - delayMs,
      backlog: this.queue.length - this.head,
      delayMs,
    };
  }

  close(): void {
    this.closed = true;
    this.timer?.cancel();
    this.timer = undefined;
  }

  private schedule(at: number, cost: number, run: (time: number) => void): void {
    if (this.closed) return;
    const done = Math.max(at, this.busyUntil) + cost;
    this.busyUntil = done;
    this.counters.busyMs += cost;
    if (this.head === this.queue.length && done <= this.clock.now() + this.granularityMs) {
      run(done);
      return;
    }
    this.queue.push({ done, run });
    if (!this.timer) this.arm();
  }

  private arm(): void {
    this.timer?.cancel();
    this.timer = undefined;
    const next = this.queue[this.head];
    if (!next) return;
    this.timer = this.clock.at(next.done - this.granularityMs, () => this.drain());
  }

  private drain(): void {
    this.timer = undefined;
    if (this.closed) return;
    const horizon = this.clock.now() + this.granularityMs;
    while (this.head < this.queue.length) {
      const work = this.queue[this.head]!;
      if (work.done > horizon) break;
      this.head += 1;
      work.run(work.done);
    }
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head > 4096) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    this.arm();
  }
}
