import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { deriveState, Journal, type JournalEvent, readJournal } from "../../../src/run/journal.js";

const START = {
  type: "run_started",
  format: 1,
  runId: "r",
  planName: "p",
  planPath: "/plans/p.yaml",
  planHash: "h1",
  target: "anyscale",
  cells: [
    { id: "a-x1", serviceName: "p-a-x1" },
    { id: "a-x2", serviceName: "p-a-x2" },
  ],
} as const satisfies JournalEvent;

/** A first attempt that fails and is interrupted, then a resume that finishes: every kind of event. */
const EVENTS: JournalEvent[] = [
  { type: "image_built", image: "a", uri: "img://a" },
  { type: "image_failed", image: "b", error: "no base" },
  { type: "step_started", cell: "a-x1", step: "render" },
  { type: "step_done", cell: "a-x1", step: "render" },
  { type: "step_started", cell: "a-x1", step: "deploy" },
  { type: "service_recorded", cell: "a-x1", serviceName: "p-a-x1" },
  { type: "service_identified", cell: "a-x1", serviceName: "p-a-x1", serviceId: "s1", versionId: "v1" },
  { type: "step_done", cell: "a-x1", step: "deploy" },
  { type: "level_done", cell: "a-x1", level: "conc4" },
  { type: "step_failed", cell: "a-x1", step: "bench", error: "boom" },
  { type: "cell_finished", cell: "a-x1", outcome: "failed" },
  { type: "service_not_ours", cell: "a-x2", serviceName: "p-a-x2", foundId: "other" },
  { type: "service_left_running", cell: "a-x1", serviceName: "p-a-x1", reason: "kept by policy" },
  { type: "run_interrupted", signal: "SIGINT" },
  { type: "run_resumed", planHash: "h2", planChanged: true },
  { type: "service_observed", cell: "a-x1", serviceName: "p-a-x1", state: "TERMINATED" },
  { type: "cell_reset", cell: "a-x1", from: "deploy", reason: "resume" },
  { type: "service_identified", cell: "a-x2", serviceName: "p-a-x2", serviceId: "s2" },
  { type: "level_done", cell: "a-x1", level: "conc4" },
  { type: "service_terminated", cell: "a-x2", serviceName: "p-a-x2" },
  { type: "cell_finished", cell: "a-x1", outcome: "succeeded" },
  { type: "report_written", dir: "/runs/r/report" },
  { type: "run_finished", outcome: "succeeded" },
];

describe("the journal's state", () => {
  it("is, after every append, what a full replay of the events so far gives", async () => {
    const dir = mkdtempSync(join(tmpdir(), "journal-"));
    const journal = await Journal.create(dir, START);
    for (const event of EVENTS) {
      await journal.append(event);
      expect(journal.state).toEqual(deriveState(readJournal(dir)));
    }
    expect(JSON.parse(readFileSync(join(dir, "state.json"), "utf8"))).toEqual(journal.state);
    expect(Journal.open(dir).state).toEqual(journal.state);
    // The replay covered real changes, not an empty state equal to another empty state.
    expect(journal.state).toMatchObject({ status: "succeeded", planHash: "h2", reportDir: "/runs/r/report" });
    expect(journal.state.cells[0]).toMatchObject({
      outcome: "succeeded",
      levelsDone: ["conc4"],
      serviceId: "s1",
    });
    expect(journal.state.cells[1]).toMatchObject({ service: "terminated", serviceId: "s2" });
    expect(journal.state.cells[1]?.foreignId).toBeUndefined();
  });

  it("keeps who holds a name now, and a service the run lost track of, until a later event says otherwise", async () => {
    const dir = mkdtempSync(join(tmpdir(), "journal-"));
    const journal = await Journal.create(dir, START);
    const x1 = { cell: "a-x1", serviceName: "p-a-x1" } as const;
    const x2 = { cell: "a-x2", serviceName: "p-a-x2" } as const;
    await journal.append({ type: "service_recorded", ...x1 });
    await journal.append({ type: "service_identified", ...x1, serviceId: "s1", versionId: "v1" });
    // Our id, deployed again by someone else: a new version of the same service.
    await journal.append({ type: "service_not_ours", ...x1, foundId: "s1", foundVersionId: "v2" });
    await journal.append({ type: "service_recorded", ...x2 });
    await journal.append({
      type: "service_left_running",
      ...x2,
      reason: "the name answers with another",
      accidental: true,
    });
    expect(journal.state.cells[0]).toMatchObject({
      service: "terminated",
      foreignId: "s1",
      foreignVersionId: "v2",
    });
    expect(journal.state.cells[1]).toMatchObject({
      service: "left_running",
      lostTrack: "the name answers with another",
    });
    expect(Journal.open(dir).state).toEqual(journal.state);
    // A new deploy of the cell is ours again; a service kept by policy is not lost.
    await journal.append({ type: "service_identified", ...x1, serviceId: "s1", versionId: "v3" });
    await journal.append({ type: "service_left_running", ...x2, reason: "--keep-services" });
    expect(journal.state.cells[0]?.foreignId).toBeUndefined();
    expect(journal.state.cells[0]?.foreignVersionId).toBeUndefined();
    expect(journal.state.cells[1]?.lostTrack).toBeUndefined();
  });

  it("continues from the replayed state and numbering after an open", async () => {
    const dir = mkdtempSync(join(tmpdir(), "journal-"));
    const first = await Journal.create(dir, START);
    for (const event of EVENTS.slice(0, 10)) await first.append(event);
    const reopened = Journal.open(dir);
    for (const event of EVENTS.slice(10)) await reopened.append(event);
    const events = readJournal(dir);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(reopened.state).toEqual(deriveState(events));
  });

  it("rejects an event for a cell the run does not have, without recording it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "journal-"));
    const journal = await Journal.create(dir, START);
    await expect(journal.append({ type: "step_started", cell: "nope", step: "render" })).rejects.toThrow(
      "journal mentions unknown cell nope",
    );
    expect(readJournal(dir)).toHaveLength(1);
    expect(journal.state).toEqual(deriveState(readJournal(dir)));
  });
});
