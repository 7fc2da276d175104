import type { Command } from "commander";

/** `orchestrate smoke`: one short streamed completion, to see that the server works. */
export function register(program: Command): void {
  program
    .command("smoke")
    .description(
      "Send one short streamed completion; print the model, TTFT, tokens and status (non-zero exit if anything is off)",
    )
    .option("-u, --base-url <url>", "server base URL (default: $OPENAI_API_URL or http://127.0.0.1:8000)")
    .option("-m, --model <id>", "model to request (default: the first of GET /v1/models)")
    .option("--prompt-format <f>", "token-ids | text", "token-ids")
    .option("--json", "print the result as JSON")
    .action(async (flags: { baseUrl?: string; model?: string; promptFormat: string; json?: boolean }) => {
      const { UserError } = await import("../errors.js");
      const { smokeTest } = await import("../bench/api.js");
      const { listenForInterrupts } = await import("../interrupt.js");
      if (flags.promptFormat !== "token-ids" && flags.promptFormat !== "text") {
        throw new UserError(`--prompt-format: "${flags.promptFormat}" is not token-ids or text`);
      }
      const baseUrl = flags.baseUrl ?? process.env.OPENAI_API_URL ?? "http://127.0.0.1:8000";
      const interruption = listenForInterrupts();
      try {
        const result = await smokeTest({
          baseUrl,
          ...(process.env.OPENAI_API_KEY ? { token: process.env.OPENAI_API_KEY } : {}),
          ...(flags.model ? { model: flags.model } : {}),
          promptFormat: flags.promptFormat,
          signal: interruption.graceful,
        });
        if (flags.json) {
          process.stdout.write(`${JSON.stringify({ baseUrl, ...result }, null, 2)}\n`);
          return;
        }
        process.stdout.write(
          `${[
            `server   ${baseUrl}`,
            `model    ${result.model}`,
            `status   HTTP ${result.status}, finish_reason ${result.finishReason ?? "none"}`,
            `TTFT     ${result.ttftMs.toFixed(1)} ms`,
            `E2E      ${result.e2elMs.toFixed(1)} ms`,
            `tokens   ${result.promptTokens ?? "?"} in, ${result.completionTokens} out in ${result.chunks} chunks (counts from ${result.tokenSource})`,
            "ok",
          ].join("\n")}\n`,
        );
      } finally {
        interruption.dispose();
      }
    });
}
