import { readFile } from "node:fs/promises";
import type { z } from "zod";
import { UserError } from "./errors.js";

/**
 * Reads a JSON file that orchestrate (or vLLM) wrote and checks it against its schema. A file
 * that is missing, not JSON, or not the expected kind is the user's to look at, so each case says
 * which file and, for a schema mismatch, which keys.
 */
export async function readJsonFile<S extends z.ZodType>(
  path: string,
  schema: S,
  what: string,
): Promise<z.output<S>> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw new UserError(`${path}: not a readable JSON file`, { cause: error });
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new UserError(`${path}: not ${what}`, {
      details: parsed.error.issues.map((issue) => `• ${issue.path.join(".") || "(file)"}: ${issue.message}`),
    });
  }
  return parsed.data;
}
