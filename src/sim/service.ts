/**
 * The whole Ray Serve LLM application, without HTTP: K ingress replicas in front of N LLM
 * replicas. A request is assigned to an ingress replica (the proxy or load balancer in front
 * spreads them), costs that replica its per-request overhead, is routed by power-of-two-choices
 * on in-flight requests to an LLM replica below its `max_ongoing_requests` (or waits at the
 * ingress, up to `max_queued_requests`), runs in that replica's engine, and its tokens travel back
 * through the same ingress replica as chunks, coalesced by Ray Serve's stream batcher.
 *
 * Everything runs on the injected clock, so tests drive it in virtual time.
 */

import type { Clock, TimerHandle } from "../clock.js";
import { Random } from "../random.js";
import type { SimConfig } from "./config.js";
import { Engine, type EngineStats, type SequenceHandle, type SequenceSink } from "./engine.js";
import { IngressReplica, type IngressStats } from "./ingress.js";
import { StepNoise } from "./noise.js";

export interface ServiceRequest {
  promptTokenIds: readonly number[];
  /** Tokens the request will produce (max_tokens, or less at a pseudo-EOS). */
  outputTokens: number;
  /** Streams send a chunk per batch of tokens; other requests one chunk at the end. */
  stream: boolean;
  /** Hold the request this long before the engine sees it (the stall fault). */
  stallMs?: number;
}

export interface ServiceListener {
  /** The request reached an LLM replica (a stream may send its headers now). */
  onRouted(route: { replica: number; ingress: number }, time: number): void;
  /** A chunk carrying `tokens` tokens left the ingress; `delivered` counts all so far. */
  onChunk(time: number, tokens: number, delivered: number, last: boolean): void;
  /** The ingress's queue was full (Ray Serve's back-pressure); nothing else follows. */
  onRejected(message: string, time: number): void;
}

export interface ServiceHandle {
  /** The client went away: free the request's place wherever it is. */
  cancel(): void;
  readonly ingress: number;
  readonly replica: number | undefined;
  readonly cachedTokens: number;
}

export interface ReplicaStats extends EngineStats {
  index: number;
  /** Requests routed to this replica and not finished (what power-of-two-choices compares). */
  ongoing: number;
  routed: number;
}

export interface IngressReplicaStats extends IngressStats {
  index: number;
  /** Requests waiting at this ingress for an LLM replica below max_ongoing_requests. */
  queued: number;
  rejected: number;
}

class Flight implements SequenceSink, ServiceHandle {
  replica: number | undefined;
  engineHandle: SequenceHandle | undefined;
  /** The network latency or the stall fault holding the request back, while it runs. */
  waitTimer: TimerHandle | undefined;
  cancelled = false;
  finished = false;
  /** Tokens produced but not yet sent as a chunk (the stream batcher's buffer). */
  buffered = 0;
  sent = 0;
  lastFlush = Number.NEGATIVE_INFINITY;

  constructor(
    readonly service: ServiceModel,
    readonly request: ServiceRequest,
    readonly listener: ServiceListener,
    readonly ingress: number,
  ) {}

  get cachedTokens(): number {
    return this.engineHandle?.cachedTokens ?? 0;
  }

  onToken(time: number, _generated: number, last: boolean): void {
    this.service.onToken(this, time, last);
  }

  cancel(): void {
    this.service.cancel(this);
  }
}

export class ServiceModel {
  readonly engines: Engine[];
  readonly ingresses: IngressReplica[];
  private readonly ongoing: number[];
  private readonly routed: number[];
  private readonly queues: Flight[][];
  private readonly rejected: number[];
  private readonly routing: Random;
  private readonly assignment: Random;
  private readonly network: Random;
  private nextIngress = 0;
  private nextQueue = 0;
  private closed = false;

  constructor(
    private readonly config: SimConfig,
    private readonly clock: Clock,
    /** Ingress work due this close to now is delivered at once (0 in virtual time). */
    granularityMs = 1,
  ) {
    this.engines = Array.from(
      { length: config.replicas },
      (_, replica) =>
        new Engine(
          config.engine,
          clock,
          config.max_schedule_lag_ms,
          StepNoise.isQuiet(config.noise)
            ? undefined
            : new StepNoise(config.noise, config.noise.seed ?? config.seed, replica),
        ),
    );
    this.ingresses = Array.from(
      { length: config.ingress_replicas },
      (_, i) => new IngressReplica(i, clock, granularityMs),
    );
    this.ongoing = new Array(config.replicas).fill(0);
    this.routed = new Array(config.replicas).fill(0);
    this.queues = Array.from({ length: config.ingress_replicas }, () => []);
    this.rejected = new Array(config.ingress_replicas).fill(0);
    this.routing = Random.stream(config.seed, "routing");
    this.assignment = Random.stream(config.seed, "ingress-assignment");
    this.network = Random.stream(config.seed, "network-latency");
  }

  submit(request: ServiceRequest, listener: ServiceListener): ServiceHandle {
    const ingress = this.pickIngress();
    const flight = new Flight(this, request, listener, ingress);
    const accept = (at: number) =>
      this.ingresses[ingress]!.acceptRequest(at, this.config.ingress.request_overhead_ms, (time) =>
        this.route(flight, time),
      );
    const { network_latency_ms, network_jitter } = this.config.ingress;
    const latency =
      network_latency_ms > 0 ? network_latency_ms * (1 + network_jitter * (2 * this.network.next() - 1)) : 0;
    // The ingress must not be booked ahead for a request still on the wire: it would idle meanwhile.
    if (latency > 0)
      flight.waitTimer = this.clock.at(this.clock.now() + latency, () => {
        flight.waitTimer = undefined;
        if (!flight.cancelled) accept(this.clock.now());
      });
    else accept(this.clock.now());
    return flight;
  }

  stats(): { replicas: ReplicaStats[]; ingress: IngressReplicaStats[] } {
    return {
      replicas: this.engines.map((engine, index) => ({
        index,
        ...engine.stats(),
        ongoing: this.ongoing[index]!,
        routed: this.routed[index]!,
      })),
      ingress: this.ingresses.map((replica, index) => ({
        index,
        ...replica.stats(),
        queued: this.queues[index]!.length,
        rejected: this.rejected[index]!,
      })),
    };
  }

  close(): void {
    this.closed = true;
    for (const engine of this.engines) engine.close();
    for (const ingress of this.ingresses) ingress.close();
  }

  /** @internal (Flight) */
  onToken(flight: Flight, time: number, last: boolean): void {
    if (last) this.release(flight);
    if (flight.cancelled) return;
    flight.buffered += 1;
    if (!flight.request.stream) {
      if (last) this.flush(flight, time, true);
      return;
    }
    const interval = this.config.engine.stream_batching_interval_ms;
    // The first token goes out at once (a batcher with nothing sent yet has nothing to wait
    // for); later ones when the interval since the last chunk has passed, or at the end.
    if (last || interval === 0 || time - flight.lastFlush >= interval) this.flush(flight, time, last);
  }

  /** @internal (Flight) */
  cancel(flight: Flight): void {
    if (flight.cancelled) return;
    flight.cancelled = true;
    flight.waitTimer?.cancel();
    const queue = this.queues[flight.ingress]!;
    const queued = queue.indexOf(flight);
    if (queued >= 0) queue.splice(queued, 1);
    if (flight.replica !== undefined && !flight.finished) {
      flight.engineHandle?.cancel();
      this.release(flight);
    }
  }

  private flush(flight: Flight, time: number, last: boolean): void {
    const tokens = flight.buffered;
    flight.buffered = 0;
    flight.sent += tokens;
    flight.lastFlush = time;
    const delivered = flight.sent;
    this.ingresses[flight.ingress]!.forwardChunk(time, this.config.ingress.chunk_cost_ms, (leftAt) => {
      if (!flight.cancelled) flight.listener.onChunk(leftAt, tokens, delivered, last);
    });
  }

  private pickIngress(): number {
    const count = this.ingresses.length;
    if (this.config.ingress.assignment === "random") return this.assignment.int(count);
    const index = this.nextIngress;
    this.nextIngress = (index + 1) % count;
    return index;
  }

  private route(flight: Flight, time: number): void {
    if (flight.cancelled) return;
    const replica = this.chooseReplica();
    if (replica !== undefined) {
      this.dispatch(flight, replica, time);
      return;
    }
    const limit = this.config.engine.max_queued_requests;
    const queue = this.queues[flight.ingress]!;
    if (limit >= 0 && queue.length >= limit) {
      this.rejected[flight.ingress]! += 1;
      flight.cancelled = true;
      flight.listener.onRejected(
        `Request dropped due to backpressure (num_queued_requests=${queue.length}, max_queued_requests=${limit}).`,
        time,
      );
      return;
    }
    queue.push(flight);
  }

  /** Power of two choices among replicas with room: the one with fewer requests in flight. */
  private chooseReplica(): number | undefined {
    const limit = this.config.engine.max_ongoing_requests;
    const n = this.engines.length;
    const first = this.routing.int(n);
    const second = n > 1 ? (first + 1 + this.routing.int(n - 1)) % n : first;
    const a = this.ongoing[first]! < limit ? first : undefined;
    const b = this.ongoing[second]! < limit ? second : undefined;
    if (a !== undefined && b !== undefined) return this.ongoing[b]! < this.ongoing[a]! ? b : a;
    if (a !== undefined || b !== undefined) return a ?? b;
    // Both samples are full: fall back to a scan, as Ray's router keeps trying other replicas.
    let best: number | undefined;
    for (let i = 0; i < n; i++) {
      if (this.ongoing[i]! < limit && (best === undefined || this.ongoing[i]! < this.ongoing[best]!))
        best = i;
    }
    return best;
  }

  private dispatch(flight: Flight, replica: number, time: number): void {
    flight.replica = replica;
    this.ongoing[replica]! += 1;
    this.routed[replica]! += 1;
    flight.listener.onRouted({ replica, ingress: flight.ingress }, time);
    if (flight.cancelled) return; // the listener may give up at once (e.g. a socket already gone)
    const stall = flight.request.stallMs ?? 0;
    if (stall > 0) flight.waitTimer = this.clock.at(time + stall, () => this.startEngine(flight));
    else this.startEngine(flight);
  }

  private startEngine(flight: Flight): void {
    flight.waitTimer = undefined;
    if (flight.cancelled || this.closed) return;
    const engine = this.engines[flight.replica!]!;
    flight.engineHandle = engine.submit({
      promptLength: flight.request.promptTokenIds.length,
      outputTokens: flight.request.outputTokens,
      blockHashes: engine.blockHashes(flight.request.promptTokenIds),
      sink: flight,
    });
  }

  /** The request no longer occupies its replica: let a queued request take its place. */
  private release(flight: Flight): void {
    if (flight.finished || flight.replica === undefined) return;
    flight.finished = true;
    this.ongoing[flight.replica]! -= 1;
    this.dispatchQueued();
  }

  private dispatchQueued(): void {
    const queues = this.queues;
    for (let scanned = 0; scanned < queues.length; scanned++) {
      const index = (this.nextQueue + scanned) % queues.length;
      const queue = queues[index]!;
      if (queue.length === 0) continue;
      const replica = this.chooseReplica();
      if (replica === undefined) return;
      this.nextQueue = (index + 1) % queues.length;
      this.dispatch(queue.shift()!, replica, this.clock.now());
      return;
    }
  }
}
