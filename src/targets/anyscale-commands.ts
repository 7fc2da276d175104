/**
 * The exact `anyscale` command lines orchestrate runs. The anyscale target executes them and the
 * dry run prints them, from the same functions, so what a dry run shows is what a run does.
 * Arguments are always an array (never a shell string). docs/anyscale.md has the contract.
 */

export const ANYSCALE_BIN = "anyscale";

export function imageBuildArgs(
  image: { name: string; ray_version: string },
  containerfile: string,
): string[] {
  return ["image", "build", "-f", containerfile, "-n", image.name, "-r", image.ray_version];
}

export function deployArgs(configPath: string, name: string, tags: Record<string, string>): string[] {
  const tagArgs = Object.entries(tags)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .flatMap(([k, v]) => ["--tag", `${k}=${v}`]);
  return ["service", "deploy", "-f", configPath, "-n", name, ...tagArgs];
}

export function statusArgs(name: string): string[] {
  return ["service", "status", "-n", name, "--json"];
}

export function terminateArgs(name: string): string[] {
  return ["service", "terminate", "-n", name];
}

/** For display: quotes what a shell would split. */
export function shellQuote(args: readonly string[]): string {
  return args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(" ");
}
