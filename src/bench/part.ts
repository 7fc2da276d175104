import { mkdir } from "node:fs/promises";
import { performance } from "node:perf_hooks";
import { epochOfMonotonicZero } from "../clock.js";
import { writeJsonAtomic } from "../fs-atomic.js";
import { Random } from "../random.js";
import { replayTimes } from "../workloads/trace.js";
import type { LoadedWorkload } from "../workloads/workload-file.js";
import { aggregateRecords, type RequestedLengths } from "./aggregate.js";
import { CompletionClient } from "./client.js";
import { clientVerdict, HealthMonitor } from "./client-health.js";
import { partFiles } from "./experiment-files.js";
import { partResultJson } from "./formats.js";
import { collectGarbageBeforeLevel, IdleCollector } from "./idle-gc.js";
import type { LevelDone, LevelSpec, PartInit } from "./protocol.js";
import { RecordsWriter, readRecordsFile } from "./records-file.js";
import { closedLoop, type Issue, type LoopTimes, openLoop, replayLoop, sleepUntil } from "./schedulers.js";
import { lengthSource, type ShapeSource, Workload } from "./workload.js";

/**
 * One client (part) running one level: set up, wait for the barrier, issue requests on the
 * schedule, record every request, then write `partK/concC.records.bin` and `partK/concC.json`.
 * Runs inside a part process (part-main.ts); the coordinator decides when.
 */

export interface Progress {
  done: number;
  failed: number;
  issued: number;
}

/** Connections opened before a closed-loop level: one per slot, and a spare for a quarter of them. */
export function warmConnections(concurrency: number): number {
  return concurrency + Math.ceil(concurrency / 4) + 2;
}

/**
 * Connections opened before a replay: the most requests of the client's schedule in flight at
 * once, if each took a second to its first token and 25 ms a token after (a slow decode), capped
 * at 2,048. A replay that opened its connections as it went would pay a connection set-up on its
 * requests, sending them late, and a server busy streaming can drop connects that arrive faster
 * than it accepts them (seen at 1,024 streams: a tenth of the requests failed to connect).
 */
export function replayConnections(
  sendAtMs: ArrayLike<number>,
  outputTokens: (index: number) => number,
): number {
  const ends = Array.from(
    { length: sendAtMs.length },
    (_, i) => sendAtMs[i]! + ASSUMED_FIRST_TOKEN_MS + ASSUMED_TOKEN_MS * outputTokens(i),
  ).sort((a, b) => a - b);
  let most = 0;
  let ended = 0;
  for (let started = 0; started < sendAtMs.length; started++) {
    while (ends[ended]! <= sendAtMs[started]!) ended += 1;
    most = Math.max(most, started + 1 - ended);
  }
  return Math.min(most, MAX_REPLAY_CONNECTIONS);
}

const ASSUMED_FIRST_TOKEN_MS = 1000;
const ASSUMED_TOKEN_MS = 25;
const MAX_REPLAY_CONNECTIONS = 2048;

export class PartLevel {
  private readonly now = () => performance.now();
  private readonly stopController = new AbortController();
  private readonly client: CompletionClient;
  private readonly workload: Workload;
  private readonly shapes: ShapeSource;
  private readonly health = new HealthMonitor();
  private readonly idleCollector = new IdleCollector();
  private readonly progress: Progress = { done: 0, failed: 0, issued: 0 };
  private readonly files: ReturnType<typeof partFiles>;
  /** A replay's send times, ms after the barrier. */
  private readonly sendAtMs: Float64Array | undefined;

  private constructor(
    private readonly init: PartInit,
    private readonly level: LevelSpec,
    private readonly loaded: LoadedWorkload | undefined,
  ) {
    this.files = partFiles(level.outDir, init.part, level.key);
    if (level.mode === "replay" && loaded?.kind === "trace")
      this.sendAtMs = replayTimes(loaded.part, level.value, init.clients);
    this.client = new CompletionClient({
      baseUrl: init.baseUrl,
      ...(init.token ? { token: init.token } : {}),
      // Closed loop: room for a spare connection per slot (see client.ts). Open loop: no limit.
      ...(level.mode === "concurrency" ? { connections: 2 * level.value } : {}),
      timeouts: init.timeouts,
      endpoint: init.endpoint,
    });
    this.shapes = loaded
      ? fileShapes(loaded)
      : lengthSource(init.inputTokens, init.outputTokens, init.lengthSeed);
    this.workload = new Workload({
      model: init.model,
      endpoint: init.endpoint,
      promptFormat: init.promptFormat,
      shapes: this.shapes,
      seed: level.levelSeed,
      ...(init.words ? { words: init.words } : {}),
    });
  }

  static async prepare(init: PartInit, level: LevelSpec, loaded?: LoadedWorkload): Promise<PartLevel> {
    if (level.mode === "replay" && loaded?.kind !== "trace")
      throw new Error("a replay level without its trace");
    const run = new PartLevel(init, level, loaded);
    await mkdir(run.files.dir, { recursive: true });
    if (level.mode === "concurrency") await run.client.warmUp(warmConnections(level.value));
    if (run.sendAtMs)
      await run.client.warmUp(replayConnections(run.sendAtMs, (i) => run.shapes(i).outputTokens));
    collectGarbageBeforeLevel();
    return run;
  }

  get counts(): Progress {
    return { ...this.progress };
  }

  /** Stop issuing; requests in flight get the grace period, then are cancelled. */
  stop(): void {
    if (this.stopController.signal.aborted) return;
    this.stopController.abort();
    setTimeout(() => this.client.cancelAll("stopped by the user"), this.init.stopGraceMs).unref();
  }

  /** Stop issuing and cancel the requests in flight now (a second Ctrl-C). */
  cancelNow(): void {
    this.stop();
    this.client.cancelAll("cancelled by the user");
  }

  async run(barrierEpochMs: number): Promise<LevelDone> {
    const { init, level, now } = this;
    const clockOriginEpochMs = epochOfMonotonicZero();
    const barrier = barrierEpochMs - clockOriginEpochMs;
    const writer = await RecordsWriter.create(this.files.records, barrier);
    try {
      await sleepUntil(barrier, now, this.stopController.signal);
      const startedAt = now();
      this.health.start();
      const times = await this.runLoop(barrier, writer);
      const health = this.health.stop();
      const finishedAt = now();
      const us = (ms: number) => Math.round((ms - barrier) * 1000);
      await writer.close({
        part: init.part,
        level: level.key,
        time_unit: "us",
        clock_origin_epoch_ms: clockOriginEpochMs,
        barrier_us: Math.round(barrier * 1000),
        started_us: us(startedAt),
        steady_from_us: us(times.steadyFrom),
        steady_until_us: us(times.steadyUntil),
        finished_us: us(finishedAt),
        num_prompts: level.numPrompts ?? Math.max(0, times.issued - level.warmup),
        warmup: level.warmup,
        mode: level.mode,
        target: level.value,
        interrupted: this.stopController.signal.aborted,
      });
      return await this.writeSummary(health, startedAt - barrier);
    } catch (error) {
      await writer.discard();
      throw error;
    } finally {
      await this.client.close();
    }
  }

  private runLoop(barrier: number, writer: RecordsWriter): Promise<LoopTimes> {
    const { init, level, now } = this;
    const issue = async ({ index, warmup, scheduledAt }: Issue) => {
      this.progress.issued += 1;
      this.idleCollector.sent();
      const { shape, body } = this.workload.request(index);
      const spec = {
        index,
        warmup,
        body,
        maxTokens: shape.outputTokens,
        requestId: `${init.runId}-p${init.part}-${level.key}-${index}`,
        ...(scheduledAt !== undefined ? { scheduledAt } : {}),
      };
      const record = await this.client.send(spec);
      writer.append(record);
      if (record.errorKind) this.progress.failed += 1;
      this.progress.done += 1;
    };
    const common = {
      warmup: level.warmup,
      issue,
      stop: this.stopController.signal,
      now,
      beforeWait: (gapMs: number) => this.idleCollector.beforeWait(gapMs),
      ...(level.numPrompts !== undefined ? { count: level.numPrompts } : {}),
      ...(level.durationS !== undefined ? { deadline: barrier + level.durationS * 1000 } : {}),
    };
    if (level.mode === "concurrency") return closedLoop({ ...common, concurrency: level.value });
    if (this.sendAtMs) return replayLoop({ ...common, sendAtMs: this.sendAtMs, start: barrier });
    return openLoop({
      ...common,
      rate: level.value,
      burstiness: init.burstiness,
      rng: new Random(level.levelSeed ^ 0x5bd1e995),
      start: barrier,
    });
  }

  private async writeSummary(
    health: ReturnType<HealthMonitor["stop"]>,
    startSkewMs: number,
  ): Promise<LevelDone> {
    const { init, level } = this;
    const file = await readRecordsFile(this.files.records);
    const aggregate = aggregateRecords([file], {
      requested: this.loaded ? fileRowLengths(this.shapes) : this.shapes,
      ...(init.slo ? { slo: init.slo } : {}),
    });
    const verdict = clientVerdict({
      health,
      mode: level.mode,
      target: level.value,
      achievedConcurrency: aggregate.achievedConcurrencyByPart[String(init.part)],
      medianRequestMs: aggregate.medianRequestMs,
      ...(aggregate.scheduleLagMs ? { scheduleLagP99Ms: aggregate.scheduleLagMs.p99 } : {}),
    });
    const json = partResultJson(
      aggregate,
      {
        key: level.key,
        mode: level.mode,
        target: level.value,
        modelId: init.model,
        inputTokens: init.inputTokens,
        outputTokens: init.outputTokens,
        lengthSeed: init.lengthSeed,
        endpoint: init.endpoint,
        burstiness: init.burstiness,
        startedAtEpochMs: file.footer.clock_origin_epoch_ms + file.footer.barrier_us / 1000,
        toolVersion: init.toolVersion,
        ...(init.slo ? { slo: init.slo } : {}),
      },
      { part: init.part, seed: level.levelSeed, health, verdict },
    );
    json.start_skew_ms = startSkewMs;
    await writeJsonAtomic(this.files.json, json);
    return {
      type: "level-done",
      key: level.key,
      interrupted: aggregate.interrupted,
      completed: aggregate.completed,
      failed: aggregate.failed,
      verdict: verdict.verdict,
      startSkewMs,
    };
  }
}

/** The rows this part was dealt, by its request index. */
function fileShapes(loaded: LoadedWorkload): ShapeSource {
  if (loaded.kind === "dataset") return loaded.shapes;
  const rows = loaded.part.shapes;
  return (index) => rows[index]!;
}

/**
 * A dataset's prompt length is the file's estimate (the server counts the text) and not compared
 * with the server's count; a trace's token-id prompts are exact, and are.
 */
function fileRowLengths(shapes: ShapeSource): (index: number) => RequestedLengths {
  return (index) => {
    const shape = shapes(index);
    return { ...shape, promptLengthEstimated: shape.promptText !== undefined };
  };
}
