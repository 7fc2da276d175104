import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The package root, found by walking up from this file. The same code runs from src/ (under
 * vitest) and from dist/ (installed), so paths are never computed relative to this file's folder.
 */
export const packageRoot: string = findPackageRoot(dirname(fileURLToPath(import.meta.url)));

function findPackageRoot(start: string): string {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, "package.json"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${start}`);
    dir = parent;
  }
}

/**
 * The compiled JavaScript of a module that runs as its own process (a bench part, a simulator
 * replica). Child processes always run the built code, so tests and users exercise the same file.
 */
export function distEntry(relativeToSrc: string): string {
  const path = join(packageRoot, "dist", relativeToSrc);
  if (!existsSync(path)) {
    throw new Error(`${path} does not exist; run \`npm run build\` first`);
  }
  return path;
}

let cachedVersion: string | undefined;

export function toolVersion(): string {
  cachedVersion ??= (
    JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")) as { version: string }
  ).version;
  return cachedVersion;
}
