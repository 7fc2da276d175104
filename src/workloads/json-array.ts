import { type FileIdentity, fileProblem, readTextChunks } from "./file-reader.js";

/**
 * The elements of a file that holds one JSON array (ShareGPT's layout), one at a time: the text
 * of each element is cut out by a scanner that tracks only strings and nesting depth, then parsed
 * alone, so memory holds one element, not the file. Each element comes with the line it starts on.
 */

export interface ArrayElement {
  value: unknown;
  line: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const COMMA = 0x2c;

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === NEWLINE || code === 0x0d || code === 0xfeff;
}

export async function* readJsonArray(
  path: string,
  identity?: Partial<FileIdentity>,
): AsyncGenerator<ArrayElement> {
  let line = 1;
  /** 0 before the array, 1 between elements, > 1 inside an element. */
  let depth = 0;
  let closed = false;
  let inString = false;
  let escaped = false;
  let parts: string[] = [];
  let elementLine = 0;
  for await (const chunk of readTextChunks(path, identity)) {
    let start = depth > 1 ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) {
      const code = chunk.charCodeAt(i);
      if (code === NEWLINE) line += 1;
      if (inString) {
        if (escaped) escaped = false;
        else if (code === BACKSLASH) escaped = true;
        else if (code === QUOTE) inString = false;
        continue;
      }
      if (closed) {
        if (!isSpace(code)) throw fileProblem(path, line, "text after the end of the JSON array");
        continue;
      }
      if (depth === 0) {
        if (isSpace(code)) continue;
        if (code !== OPEN_BRACKET)
          throw fileProblem(path, line, "expected the file to be one JSON array ([ {…}, {…} ])");
        depth = 1;
        continue;
      }
      if (depth === 1) {
        if (isSpace(code) || code === COMMA) continue;
        if (code === CLOSE_BRACKET) {
          closed = true;
          continue;
        }
        if (code !== OPEN_BRACE)
          throw fileProblem(path, line, "expected an object ({…}) as the array's element");
        depth = 2;
        start = i;
        elementLine = line;
        continue;
      }
      if (code === QUOTE) inString = true;
      else if (code === OPEN_BRACE || code === OPEN_BRACKET) depth += 1;
      else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
        depth -= 1;
        if (depth === 1) {
          parts.push(chunk.slice(start, i + 1));
          const text = parts.join("");
          parts = [];
          start = -1;
          yield { value: parseElement(path, elementLine, text), line: elementLine };
        }
      }
    }
    if (depth > 1 && start !== -1) parts.push(chunk.slice(start));
  }
  if (depth === 0) throw fileProblem(path, line, "the file is empty; expected one JSON array");
  if (!closed) throw fileProblem(path, line, "the JSON array is not closed (is the file cut short?)");
}

function parseElement(path: string, line: number, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw fileProblem(
      path,
      line,
      `the element starting here is not valid JSON (${(error as Error).message})`,
    );
  }
}
