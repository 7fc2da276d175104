import { basename, relative, sep } from "node:path";

/**
 * How the person started orchestrate, so that every follow-up command we print (resume, teardown,
 * status …) pastes into their shell as it is. The README runs it through npx, where a bare
 * `orchestrate` answers "command not found".
 *
 * Judged from the script path node was given (process.argv[1]), not from npm's variables
 * (npm_command=exec, npm_lifecycle_event=npx): those are inherited by every child, so a
 * `node dist/bin.js` started by a tool that itself ran under npx would wrongly claim npx.
 *
 *   …/node_modules/.bin/orchestrate (npx's cache _npx/…, a project's dependency, npm scripts) → npx orchestrate
 *   …/bin/orchestrate elsewhere (a global install on PATH)                                      → orchestrate
 *   …/dist/bin.js (node started the file itself)                                               → node dist/bin.js
 */
export function invocationFrom(scriptPath: string | undefined, cwd: string): string {
  if (scriptPath === undefined || scriptPath === "") return "orchestrate";
  if (basename(scriptPath) === "orchestrate") {
    return scriptPath.includes(`${sep}node_modules${sep}.bin${sep}`) ? "npx orchestrate" : "orchestrate";
  }
  const shown = relative(cwd, scriptPath);
  return `node ${shellWord(shown && !shown.startsWith("..") ? shown : scriptPath)}`;
}

let cached: string | undefined;

/** The command that starts orchestrate the way this process was started. */
export function invocation(): string {
  cached ??= invocationFrom(process.argv[1], process.cwd());
  return cached;
}

/** A command line to print: `cliCommand("teardown", dir)` → "npx orchestrate teardown results/x". */
export function cliCommand(...args: string[]): string {
  return [invocation(), ...args.map(shellWord)].join(" ");
}

/** Quoted for a POSIX shell only when it has to be, so ordinary paths stay readable. */
export function shellWord(word: string): string {
  if (/^[\w@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
