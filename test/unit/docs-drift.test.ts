import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { buildProgram } from "../../src/cli.js";
import { loadPlan } from "../../src/plan/load.js";
import type { Plan } from "../../src/plan/resolve.js";
import { capturingReporter } from "../helpers/reporter.js";

/**
 * The README and docs/ say what exists: every `orchestrate …` command they show names a real
 * command, flags it takes, and files that are in the repository; and what they say about the
 * shipped plans is what the plans say. docs/plan.md is generated and has its own test.
 */

const ROOT = join(import.meta.dirname, "../..");
const DOCS = [
  "README.md",
  ...readdirSync(join(ROOT, "docs"))
    .filter((name) => name.endsWith(".md") && name !== "plan.md")
    .map((name) => `docs/${name}`),
];

const read = (doc: string) => readFileSync(join(ROOT, doc), "utf8");

/** Every command line a page shows: in code blocks (continuations joined) and in inline code. */
function commandLines(markdown: string): string[] {
  const lines: string[] = [];
  const blocks = [...markdown.matchAll(/```[a-z]*\n([\s\S]*?)```/g)];
  for (const [, body] of blocks) lines.push(...(body ?? "").replaceAll("\\\n", " ").split("\n"));
  const prose = markdown.replaceAll(/```[a-z]*\n[\s\S]*?```/g, "");
  for (const [, span] of prose.matchAll(/`([^`\n]+)`/g)) lines.push(span ?? "");
  return lines.flatMap((line) => {
    // At the start of the line (or after `&&`), after any VAR=value: prose that mentions
    // orchestrate is no command.
    const match =
      /^\s*(?:.*&&\s+)?(?:[A-Z_]+=\S+\s+)*(?:npx (?:--no-install )?)?orchestrate ([a-z][^#]*)/.exec(line);
    return match?.[1] ? [match[1].trim()] : [];
  });
}

/** The README's table of commands, whose first column shows each command without its name prefix. */
function readmeTableCommands(markdown: string): string[] {
  const section = markdown.split("## Commands")[1] ?? "";
  // The first table of the section (the variables' table follows it).
  const table = section.slice(section.indexOf("\n|")).split("\n\n")[0] ?? "";
  return table
    .split("\n")
    .filter((line) => line.startsWith("| `"))
    .flatMap((line) => [...(line.split(" | ")[0] ?? "").matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? ""));
}

interface Problem {
  doc: string;
  line: string;
  problem: string;
}

function checkCommand(program: Command, doc: string, line: string): Problem[] {
  const words = line
    .replaceAll("\\|", " ")
    .replaceAll(/[[\]()|]/g, " ")
    .split(/\s+/)
    .filter(Boolean);
  let command = program.commands.find((c) => c.name() === words[0]);
  if (!command) return [{ doc, line, problem: `no command "${words[0]}"` }];
  const chain = [command];
  const sub = command.commands.find((c) => c.name() === words[1]);
  if (sub) {
    command = sub;
    chain.push(sub);
  }
  const problems: Problem[] = [];
  for (const word of words.slice(1)) {
    if (/^--?[a-zA-Z]/.test(word)) {
      const flag = word.split("=")[0] as string;
      const known =
        flag === "-h" ||
        flag === "--help" ||
        command.options.some((o) => o.long === flag || o.short === flag);
      if (!known)
        problems.push({ doc, line, problem: `${chain.map((c) => c.name()).join(" ")} has no ${flag}` });
    }
    const path = /^(plans|profiles)\/[\w./-]+$/.exec(word)?.[0];
    if (path && !existsSync(join(ROOT, path))) problems.push({ doc, line, problem: `no file ${path}` });
  }
  return problems;
}

describe("the docs' commands", () => {
  const program = buildProgram(capturingReporter().reporter);

  it("are found in the pages (a parser that finds none would pass anything)", () => {
    const all = DOCS.flatMap((doc) => commandLines(read(doc)));
    expect(all.length).toBeGreaterThan(40);
    expect(all).toContain("run plans/local.yaml");
    expect(readmeTableCommands(read("README.md")).length).toBeGreaterThan(10);
  });

  it("name real commands, their flags, and files that exist", () => {
    const problems = DOCS.flatMap((doc) => [
      ...commandLines(read(doc)).flatMap((line) => checkCommand(program, doc, line)),
      ...(doc === "README.md"
        ? readmeTableCommands(read(doc)).flatMap((line) => checkCommand(program, doc, line))
        : []),
    ]);
    expect(problems).toEqual([]);
  });

  it("would catch a flag that does not exist", () => {
    expect(checkCommand(program, "x.md", "bench e1 --itl-len 5")).toEqual([
      { doc: "x.md", line: "bench e1 --itl-len 5", problem: "bench has no --itl-len" },
    ]);
    expect(checkCommand(program, "x.md", "run plans/nope.yaml")[0]?.problem).toBe("no file plans/nope.yaml");
  });
});

/**
 * What the pages say about the shipped plans, each beside the plan value it describes: when a
 * plan changes, the sentence must change with it, and the reverse.
 */
interface Claim {
  doc: string;
  /** The words on the page (line breaks and spacing do not matter). */
  says: string;
  plan: "plans/local.yaml" | "plans/scaling.yaml";
  holds: (plan: Plan) => boolean;
}

const sameList = (a: readonly number[], b: readonly number[]) => a.join(",") === b.join(",");

const CLAIMS: Claim[] = [
  {
    doc: "README.md",
    says: "at 1x, 2x and 4x LLM replicas, one client per replica, two ingress replicas per LLM replica",
    plan: "plans/local.yaml",
    holds: (p) =>
      sameList(
        p.scales.map((s) => s.replicas),
        [1, 2, 4],
      ) && p.scales.every((s) => s.clients === s.replicas && s.ingress_replicas === 2 * s.replicas),
  },
  {
    doc: "README.md",
    says: "the seed's workload (5,000 tokens in, 250 out) at per-client concurrency 4 and 32",
    plan: "plans/local.yaml",
    holds: (p) =>
      p.benchmark.input_tokens === 5000 &&
      p.benchmark.output_tokens === 250 &&
      sameList(p.benchmark.concurrency, [4, 32]),
  },
  {
    doc: "README.md",
    says: "(run 4× faster, so the rehearsal stays short)",
    plan: "plans/local.yaml",
    holds: (p) => p.model.profile_speedup === 4,
  },
  {
    doc: "README.md",
    says: "The sweep runs three times",
    plan: "plans/local.yaml",
    holds: (p) => p.benchmark.repeats === 3,
  },
  {
    doc: "README.md",
    says: "gpt-oss-120b with tensor parallelism 4 on H100s, prefix caching off, stream batching 0",
    plan: "plans/scaling.yaml",
    holds: (p) =>
      p.model.model_id === "openai/gpt-oss-120b" &&
      p.model.tensor_parallel_size === 4 &&
      p.model.accelerator_type === "H100" &&
      !p.model.prefix_caching &&
      p.model.stream_batching_interval_ms === 0,
  },
  {
    doc: "README.md",
    says: "the images `rayoss-251` and `rayturbo-251`",
    plan: "plans/scaling.yaml",
    holds: (p) =>
      sameList(p.images.map((i) => i.name).sort() as never, ["rayoss-251", "rayturbo-251"] as never),
  },
  {
    doc: "README.md",
    says: "per-client concurrency 4 to 128, the whole sweep three times",
    plan: "plans/scaling.yaml",
    holds: (p) => sameList(p.benchmark.concurrency, [4, 8, 16, 32, 48, 64, 128]) && p.benchmark.repeats === 3,
  },
  {
    doc: "docs/simulator.md",
    says: "the seed's 5,000-in / 250-out workload at per-client concurrency 4 and 32, 3 × concurrency requests per client and level, the whole sweep three times, profile at 4×",
    plan: "plans/local.yaml",
    holds: (p) =>
      p.benchmark.input_tokens === 5000 &&
      p.benchmark.output_tokens === 250 &&
      sameList(p.benchmark.concurrency, [4, 32]) &&
      p.benchmark.prompts_per_concurrency === 3 &&
      p.benchmark.repeats === 3 &&
      p.model.profile_speedup === 4,
  },
  {
    doc: "docs/simulator.md",
    says: "A plan names it `profile: gpt-oss-120b-tp4-h100`",
    plan: "plans/scaling.yaml",
    holds: (p) => p.model.profile?.endsWith("/profiles/gpt-oss-120b-tp4-h100.json") === true,
  },
];

const flat = (text: string) => text.replaceAll(/\s+/g, " ");

describe("what the docs say about the shipped plans", () => {
  it.each(CLAIMS)("$doc: $says", (claim) => {
    expect(flat(read(claim.doc)).includes(flat(claim.says)), `${claim.doc} no longer says this`).toBe(true);
    const { plan } = loadPlan(join(ROOT, claim.plan), { env: {} });
    expect(claim.holds(plan), `${claim.plan} no longer matches what ${claim.doc} says`).toBe(true);
  });
});
