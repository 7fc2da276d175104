/**
 * The exact `anyscale` command lines orchestrate runs. The anyscale target executes them and the
 * dry run prints them, from the same functions, so what a dry run shows is what a run does.
 * Arguments are always an array (never a shell string). docs/anyscale.md has the contract.
 */

export const ANYSCALE_BIN = "anyscale";

/**
 * Where a name is looked up. Names are unique per project only: without `--project`, `status -n`
 * answers with the first service of that name in any project the user can see.
 */
export interface ServiceScope {
  cloud?: string | undefined;
  project?: string | undefined;
}

export function imageBuildArgs(
  image: { name: string; ray_version: string },
  containerfile: string,
): string[] {
  return ["image", "build", "-f", containerfile, "-n", image.name, "-r", image.ray_version];
}

/**
 * Every tag goes on the command line: the CLI's `--tag` replaces the config file's `tags` map
 * instead of adding to it, so a tag left in the file alone would be lost.
 */
export function deployArgs(configPath: string, name: string, tags: Record<string, string>): string[] {
  const tagArgs = Object.entries(tags)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .flatMap(([k, v]) => ["--tag", `${k}=${v}`]);
  return ["service", "deploy", "-f", configPath, "-n", name, ...tagArgs];
}

export function statusArgs(name: string, scope: ServiceScope = {}): string[] {
  return ["service", "status", "-n", name, ...scopeArgs(scope), "--json"];
}

/**
 * By id whenever it is known: `terminate -n` resolves the name across projects and refuses when
 * several hold it, and a name can have changed hands; an id is exactly one service.
 */
export function terminateArgs(service: { name: string; id?: string | undefined }): string[] {
  return service.id
    ? ["service", "terminate", "--service-id", service.id]
    : ["service", "terminate", "-n", service.name];
}

function scopeArgs(scope: ServiceScope): string[] {
  return [
    ...(scope.cloud ? ["--cloud", scope.cloud] : []),
    ...(scope.project ? ["--project", scope.project] : []),
  ];
}

/** For display: quotes what a shell would split. */
export function shellQuote(args: readonly string[]): string {
  return args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(" ");
}
