import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { loadExperiment } from "../../src/model/load.js";
import { aggregateLikeSeed } from "../../src/model/seed-view.js";

// The published seed results live beside the project (../shared/data); CI always has them. Where
// they are absent the tests are skipped, visibly.
const SEED = resolve(import.meta.dirname, "../../../shared/data/seed-bm-results");
const haveSeed = existsSync(SEED);
const experiments = haveSeed ? readdirSync(SEED).sort() : [];

describe.skipIf(!haveSeed)("the published seed results", () => {
  it("recomputes the seed's all-parts files exactly, key by key", () => {
    let compared = 0;
    for (const exp of experiments) {
      const partDirs = readdirSync(join(SEED, exp))
        .filter((d) => /^part\d+$/.test(d))
        .sort((a, b) => Number(a.slice(4)) - Number(b.slice(4)));
      for (const file of readdirSync(join(SEED, exp, "all-parts"))) {
        const parts = partDirs.map((p) => JSON.parse(readFileSync(join(SEED, exp, p, file), "utf8")));
        const stored = JSON.parse(readFileSync(join(SEED, exp, "all-parts", file), "utf8"));
        const ours = aggregateLikeSeed(parts);
        for (const [key, value] of Object.entries(stored)) {
          expect(ours[key], `${exp}/all-parts/${file} ${key}`).toBe(value);
          compared += 1;
        }
      }
    }
    expect(compared).toBeGreaterThan(1000);
  });

  it("reads every experiment with its image, scale and the warnings its files deserve", async () => {
    for (const exp of experiments) {
      const summary = await loadExperiment(join(SEED, exp));
      expect(summary.scale).toBe(Number(exp.split("-x")[1]));
      expect(summary.clients).toBe(summary.scale);
      expect(summary.levels.map((l) => l.key)).toEqual([
        "conc4",
        "conc8",
        "conc16",
        "conc32",
        "conc48",
        "conc64",
        "conc128",
      ]);
      // No level of the published data completed every request; each must say so.
      for (const level of summary.levels) {
        expect(level.completed).toBeLessThan(level.numPrompts);
        expect(level.warnings.map((w) => w.kind)).toContain("incomplete");
        expect(level.warnings.map((w) => w.kind)).not.toContain("other");
      }
    }
  });

  it("matches one level checked by hand: rayoss251-x2 conc16", async () => {
    const summary = await loadExperiment(join(SEED, "rayoss251-x2"));
    const level = summary.levels.find((l) => l.key === "conc16");
    // part1: 125 of 160, 1195.80 tok/s; part2: 113 of 160 (from the files).
    expect(level).toMatchObject({ numPrompts: 320, completed: 238, failed: 82, clients: 2 });
    expect(level?.outputThroughput).toBeCloseTo(2325.7778, 3);
  });
});
