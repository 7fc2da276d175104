import { appendFileSync, existsSync, readFileSync, statSync, truncateSync } from "node:fs";
import { appendFile } from "node:fs/promises";
import { join } from "node:path";
import { UserError } from "../errors.js";
import { writeJsonAtomic } from "../fs-atomic.js";
import type { StepName } from "../render/preview.js";
import { redactValue } from "../secrets.js";
import type { NotOurService, ServiceIdentity } from "../targets/target.js";

/**
 * The run's memory: an append-only event log (journal.jsonl) and the state derived from it
 * (state.json, rewritten atomically after every event). Resume, status and teardown read the
 * state; the events are the truth it is derived from, so a state.json lost in a crash is rebuilt.
 */

export const JOURNAL_FORMAT_VERSION = 1;
export const JOURNAL_FILE = "journal.jsonl";
export const STATE_FILE = "state.json";

/** The steps of one cell, in order. */
export const CELL_STEPS = [
  "render",
  "deploy",
  "wait",
  "ready",
  "bench",
  "teardown",
] as const satisfies readonly StepName[];
export type CellStep = (typeof CELL_STEPS)[number];

export type JournalEvent =
  | {
      type: "run_started";
      format: number;
      runId: string;
      planName: string;
      planPath: string;
      planHash: string;
      target: "anyscale" | "local";
      cells: Array<{ id: string; serviceName: string }>;
    }
  | { type: "run_resumed"; planHash: string; planChanged: boolean }
  | { type: "image_built"; image: string; uri: string }
  | { type: "image_failed"; image: string; error: string }
  | { type: "step_started"; cell: string; step: CellStep }
  | { type: "step_done"; cell: string; step: CellStep }
  | { type: "step_failed"; cell: string; step: CellStep; error: string }
  | { type: "service_recorded"; cell: string; serviceName: string }
  | { type: "service_identified"; cell: string; serviceName: string; serviceId: string; versionId?: string }
  | { type: "service_observed"; cell: string; serviceName: string; state: string }
  | {
      type: "service_not_ours";
      cell: string;
      serviceName: string;
      foundId: string;
      /** Set when it is our service's id, deployed again (a new version) by someone else. */
      foundVersionId?: string;
    }
  | { type: "service_terminated"; cell: string; serviceName: string }
  | {
      type: "service_left_running";
      cell: string;
      serviceName: string;
      reason: string;
      /** Not by the plan's policy: the run lost track of it, and the user must end it. */
      accidental?: boolean;
    }
  | { type: "level_done"; cell: string; level: string }
  | { type: "cell_reset"; cell: string; from: CellStep; reason: string }
  | { type: "cell_finished"; cell: string; outcome: "succeeded" | "failed" }
  | { type: "report_written"; dir: string }
  | { type: "run_interrupted"; signal: string }
  | { type: "run_finished"; outcome: "succeeded" | "failed" };

export type StampedEvent = JournalEvent & { seq: number; at: string };

export type StepState = "pending" | "running" | "done" | "failed";

export interface CellState {
  id: string;
  serviceName: string;
  steps: Record<CellStep, StepState>;
  levelsDone: string[];
  /** What we last know of the service: never deployed, possibly up, or gone. */
  service: "none" | "deployed" | "terminated" | "left_running";
  /**
   * The id of the service this run deployed, and of the version its deploy created: only a
   * service with both is ours to touch (see identityOf).
   */
  serviceId?: string;
  versionId?: string;
  /** Another service (or our service deployed again) holds the name now: someone else's, left alone. */
  foreignId?: string;
  foreignVersionId?: string;
  /** Why the run lost track of its service (it cannot be found by name): the user must end it. */
  lostTrack?: string;
  outcome?: "succeeded" | "failed";
  error?: string;
}

export interface RunState {
  version: number;
  runId: string;
  planName: string;
  planPath: string;
  planHash: string;
  target: "anyscale" | "local";
  status: "running" | "succeeded" | "failed" | "interrupted";
  images: Record<string, { uri?: string; error?: string }>;
  cells: CellState[];
  reportDir?: string;
  updatedAt: string;
}

export function emptySteps(): Record<CellStep, StepState> {
  return Object.fromEntries(CELL_STEPS.map((s) => [s, "pending"])) as Record<CellStep, StepState>;
}

/** Replays a whole journal; the state a run folder's events add up to. */
export function deriveState(events: readonly StampedEvent[]): RunState {
  const [first, ...rest] = events;
  if (first?.type !== "run_started") throw new Error("a journal starts with run_started");
  const state = initialState(first);
  for (const event of rest) applyEvent(state, event);
  return state;
}

function initialState(start: Extract<StampedEvent, { type: "run_started" }>): RunState {
  return {
    version: JOURNAL_FORMAT_VERSION,
    runId: start.runId,
    planName: start.planName,
    planPath: start.planPath,
    planHash: start.planHash,
    target: start.target,
    status: "running",
    images: {},
    cells: start.cells.map((c) => ({
      id: c.id,
      serviceName: c.serviceName,
      steps: emptySteps(),
      levelsDone: [],
      service: "none",
    })),
    updatedAt: start.at,
  };
}

/**
 * Folds one event (any but the first) into the state, in place. The one reducer of the journal:
 * replaying a folder and appending to it go through it alike, so they cannot disagree.
 */
function applyEvent(state: RunState, event: StampedEvent): void {
  const cell = (id: string): CellState => {
    const found = state.cells.find((c) => c.id === id);
    if (!found) throw new Error(`journal mentions unknown cell ${id}`);
    return found;
  };
  switch (event.type) {
    case "run_resumed":
      state.status = "running";
      state.planHash = event.planHash;
      break;
    case "image_built":
      state.images[event.image] = { uri: event.uri };
      break;
    case "image_failed":
      state.images[event.image] = { error: event.error };
      break;
    case "step_started":
      cell(event.cell).steps[event.step] = "running";
      break;
    case "step_done":
      cell(event.cell).steps[event.step] = "done";
      break;
    case "step_failed": {
      const c = cell(event.cell);
      c.steps[event.step] = "failed";
      c.error = event.error;
      break;
    }
    case "service_recorded":
      cell(event.cell).service = "deployed";
      break;
    case "service_identified": {
      const c = cell(event.cell);
      c.serviceId = event.serviceId;
      if (event.versionId) c.versionId = event.versionId;
      else delete c.versionId;
      delete c.foreignId;
      delete c.foreignVersionId;
      break;
    }
    case "service_not_ours": {
      // Ours is gone (the name now belongs to another service); theirs is not ours to track.
      const c = cell(event.cell);
      c.service = "terminated";
      c.foreignId = event.foundId;
      if (event.foundVersionId) c.foreignVersionId = event.foundVersionId;
      break;
    }
    case "service_observed":
      if (event.state === "TERMINATED" || event.state === "ABSENT") cell(event.cell).service = "terminated";
      break;
    case "service_terminated":
      cell(event.cell).service = "terminated";
      break;
    case "service_left_running": {
      const c = cell(event.cell);
      c.service = "left_running";
      if (event.accidental) c.lostTrack = event.reason;
      else delete c.lostTrack;
      break;
    }
    case "level_done": {
      const c = cell(event.cell);
      if (!c.levelsDone.includes(event.level)) c.levelsDone.push(event.level);
      break;
    }
    case "cell_reset": {
      const c = cell(event.cell);
      for (const step of CELL_STEPS.slice(CELL_STEPS.indexOf(event.from))) c.steps[step] = "pending";
      delete c.outcome;
      delete c.error;
      break;
    }
    case "cell_finished": {
      const c = cell(event.cell);
      c.outcome = event.outcome;
      if (event.outcome === "succeeded") delete c.error;
      break;
    }
    case "report_written":
      state.reportDir = event.dir;
      break;
    case "run_interrupted":
      state.status = "interrupted";
      break;
    case "run_finished":
      state.status = event.outcome;
      break;
    case "run_started":
      throw new Error("run_started appears twice in the journal");
  }
  state.updatedAt = event.at;
}

/** Appends events and keeps state.json in step. One writer per run folder (see lock.ts). */
export class Journal {
  private constructor(
    private readonly dir: string,
    private readonly live: RunState,
    private lastSeq: number,
  ) {}

  static async create(dir: string, start: Extract<JournalEvent, { type: "run_started" }>): Promise<Journal> {
    const stamped = stamp(start, 1);
    const journal = new Journal(dir, initialState(stamped), 1);
    await journal.write(stamped);
    return journal;
  }

  /**
   * Opens a run's journal for appending, replaying its events once. A last line cut short by a
   * crash is cut off the file (and said so through `warn`), so the next event starts on a line of
   * its own.
   */
  static open(dir: string, warn: (message: string) => void = () => {}): Journal {
    const { events, tornBytes, unterminated } = readJournalFile(dir);
    if (unterminated) appendFileSync(join(dir, JOURNAL_FILE), "\n");
    if (tornBytes > 0) {
      const path = join(dir, JOURNAL_FILE);
      truncateSync(path, statSync(path).size - tornBytes);
      warn(
        `${path}: the last line was cut short (a crash while writing it); dropped those ${tornBytes} bytes, ${events.length} events kept`,
      );
    }
    return new Journal(dir, deriveState(events), events.length);
  }

  /** The state so far, kept up to date by every append: read it, never write to it. */
  get state(): RunState {
    return this.live;
  }

  async append(event: JournalEvent): Promise<void> {
    const stamped = stamp(event, this.lastSeq + 1);
    applyEvent(this.live, stamped);
    this.lastSeq = stamped.seq;
    await this.write(stamped);
  }

  private async write(stamped: StampedEvent): Promise<void> {
    await appendFile(join(this.dir, JOURNAL_FILE), `${JSON.stringify(stamped)}\n`);
    await writeJsonAtomic(join(this.dir, STATE_FILE), this.live);
  }
}

/** Nothing secret belongs in a journal; redacting here makes sure an error message never leaks one. */
function stamp<E extends JournalEvent>(event: E, seq: number): E & { seq: number; at: string } {
  return redactValue({ ...event, seq, at: new Date().toISOString() }) as E & { seq: number; at: string };
}

/** Reads the events; a last line cut short by a crash is ignored, anything else wrong is an error. */
export function readJournal(dir: string): StampedEvent[] {
  return readJournalFile(dir).events;
}

/** The events, and how many bytes at the end are the fragment of a line a crash cut short. */
function readJournalFile(dir: string): { events: StampedEvent[]; tornBytes: number; unterminated: boolean } {
  const path = join(dir, JOURNAL_FILE);
  if (!existsSync(path)) {
    throw new UserError(`${dir} is not a run folder (it has no ${JOURNAL_FILE})`, {
      hint: "give the folder `orchestrate run` created, e.g. results/<plan>-<timestamp>",
    });
  }
  const text = readFileSync(path, "utf8");
  const lines = text.split("\n");
  const events: StampedEvent[] = [];
  let tornBytes = 0;
  // Every complete event ends with a newline; text after the last newline is a torn write.
  const tail = lines.at(-1) ?? "";
  let unterminated = false;
  if (tail !== "") {
    const event = parseEvent(tail);
    // A whole event whose newline was lost is kept; only a fragment is dropped.
    if (event) {
      unterminated = true;
    } else tornBytes = Buffer.byteLength(tail, "utf8");
  }
  lines.slice(0, -1).forEach((line, i) => {
    if (line.trim() === "") return;
    try {
      events.push(JSON.parse(line) as StampedEvent);
    } catch (error) {
      throw new UserError(`${path}:${i + 1} is not valid JSON; the journal is damaged`, { cause: error });
    }
  });
  if (unterminated) events.push(parseEvent(tail) as StampedEvent);
  const first = events[0];
  if (first?.type !== "run_started")
    throw new UserError(`${path} does not start with run_started; the journal is damaged`);
  if (first.format !== JOURNAL_FORMAT_VERSION) {
    throw new UserError(
      `${path} has journal format ${first.format}; this orchestrate reads format ${JOURNAL_FORMAT_VERSION}`,
      {
        hint: "resume or inspect it with the orchestrate version that created it",
      },
    );
  }
  return { events, tornBytes, unterminated };
}

function parseEvent(line: string): StampedEvent | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return value !== null && typeof value === "object" && "type" in value
      ? (value as StampedEvent)
      : undefined;
  } catch {
    return undefined;
  }
}

/** What the run recorded of a cell's service, for judgeOwnership; nothing before its id was read. */
export function identityOf(cell: CellState): ServiceIdentity | undefined {
  if (!cell.serviceId) return undefined;
  return cell.versionId ? { id: cell.serviceId, versionId: cell.versionId } : { id: cell.serviceId };
}

/** The terminate options that protect whatever is not this cell's service. */
export function ownerOf(cell: CellState): { owner?: ServiceIdentity } {
  const owner = identityOf(cell);
  return owner ? { owner } : {};
}

/** The journal's record that a cell's name now stands for someone else's service. */
export function notOursEvent(cell: CellState, error: NotOurService): JournalEvent {
  return {
    type: "service_not_ours",
    cell: cell.id,
    serviceName: cell.serviceName,
    foundId: error.foundId,
    ...(error.foundId === cell.serviceId && error.foundVersionId
      ? { foundVersionId: error.foundVersionId }
      : {}),
  };
}

/** "id X", or "id X, deployed again as version V" when the same service was deployed after ours. */
export function describeForeign(cell: CellState): string {
  return cell.foreignVersionId
    ? `id ${cell.foreignId}, deployed again as version ${cell.foreignVersionId}`
    : `id ${cell.foreignId}`;
}
