/**
 * argv → command. The only place that prints errors and chooses exit codes:
 * 0 ok, 1 a run or external failure, 2 bad input (plan, flags, env), 130 interrupted.
 */
import { Command, CommanderError } from "commander";
import { registerCommands } from "./commands/index.js";
import { ExternalError, Interrupted, UserError } from "./errors.js";
import { toolVersion } from "./paths.js";
import { consoleReporter, type Reporter } from "./reporter.js";
import { redact, registerEnvironmentSecrets } from "./secrets.js";

export function buildProgram(reporter: Reporter = consoleReporter()): Command {
  const program = new Command("orchestrate")
    .description(
      "Deploy LLM services on Ray Serve / Anyscale at 1x, 2x, 4x…, benchmark them with clients that scale " +
        "with the server, tear them down, and report whether throughput scales linearly.",
    )
    .version(toolVersion(), "-V, --version", "print the version")
    .helpOption("-h, --help", "show help")
    .showSuggestionAfterError(true)
    .exitOverride();
  registerCommands(program, reporter);
  for (const command of program.commands) command.exitOverride();
  return program;
}

export function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) {
    // Help and version "errors" are successes; every other commander error is a usage mistake.
    if (error.code === "commander.helpDisplayed" || error.code === "commander.version") return 0;
    if (error.code === "commander.help") return 0;
    return 2;
  }
  if (error instanceof UserError || error instanceof ExternalError || error instanceof Interrupted) {
    return error.exitCode;
  }
  return 1;
}

export function formatError(error: unknown): string {
  if (error instanceof CommanderError) return ""; // commander already printed its message
  if (error instanceof UserError) {
    const lines = [`error: ${error.message}`, ...error.details.map((d) => `  ${d}`)];
    if (error.hint) lines.push(`hint: ${error.hint}`);
    return lines.join("\n");
  }
  if (error instanceof ExternalError) {
    const lines = [`error: ${error.message}`];
    if (error.hint) lines.push(`hint: ${error.hint}`);
    return lines.join("\n");
  }
  if (error instanceof Interrupted) return `interrupted: ${error.message}`;
  const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return `internal error (this is a bug in orchestrate, please report it):\n${stack}`;
}

/** Runs one command line; what the command says goes to `reporter` (this process's stdout/stderr by default). */
export async function main(argv: readonly string[], reporter: Reporter = consoleReporter()): Promise<number> {
  registerEnvironmentSecrets();
  try {
    await buildProgram(reporter).parseAsync([...argv]);
    return 0;
  } catch (error) {
    const message = formatError(error);
    if (message) reporter.note(redact(message));
    return exitCodeFor(error);
  }
}

/** Runs the CLI on process.argv and exits with its code once output has drained. */
export function runCli(): void {
  main(process.argv).then(exitWhenFlushed);
}

/** Exit only once stdout and stderr have drained, so piped output is never cut short. */
function exitWhenFlushed(code: number): void {
  let pending = 2;
  const done = () => {
    pending -= 1;
    if (pending === 0) process.exit(code);
  };
  process.stdout.write("", done);
  process.stderr.write("", done);
}
