import type { Command } from "commander";
import type { Reporter } from "../reporter.js";

/** `orchestrate smoke`: one short streamed completion, to see that the server works. */
export function register(program: Command, reporter: Reporter): void {
  program
    .command("smoke")
    .description(
      "Send one short streamed completion; print the model, TTFT, tokens and status (non-zero exit if anything is off)",
    )
    .option("-u, --base-url <url>", "server base URL (default: $OPENAI_API_URL or http://127.0.0.1:8000)")
    .option("-m, --model <id>", "model to request (default: the first of GET /v1/models)")
    .option("--prompt-format <f>", "token-ids | text", "token-ids")
    .option("--json", "print the result as JSON")
    .action(async (options: { baseUrl?: string; model?: string; promptFormat: string; json?: boolean }) => {
      const { smokeCommand } = await import("../bench/smoke-command.js");
      await smokeCommand(options, reporter);
    });
}
