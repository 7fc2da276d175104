import { UserError } from "../errors.js";
import { listenForInterrupts } from "../interrupt.js";
import type { Reporter } from "../reporter.js";
import { smokeTest } from "./api.js";
import { serverUrlFrom } from "./server-url.js";

export interface SmokeOptions {
  baseUrl?: string;
  model?: string;
  promptFormat: string;
  json?: boolean;
}

/** `orchestrate smoke`: one short streamed completion, to see that the server works. */
export async function smokeCommand(options: SmokeOptions, reporter: Reporter): Promise<void> {
  if (options.promptFormat !== "token-ids" && options.promptFormat !== "text") {
    throw new UserError(`--prompt-format: "${options.promptFormat}" is not token-ids or text`);
  }
  const baseUrl = serverUrlFrom(options.baseUrl, process.env);
  const interruption = listenForInterrupts();
  try {
    const result = await smokeTest({
      baseUrl,
      ...(process.env.OPENAI_API_KEY ? { token: process.env.OPENAI_API_KEY } : {}),
      ...(options.model ? { model: options.model } : {}),
      promptFormat: options.promptFormat,
      signal: interruption.graceful,
    });
    if (options.json) {
      reporter.result(JSON.stringify({ baseUrl, ...result }, null, 2));
      return;
    }
    reporter.result(
      [
        `server   ${baseUrl}`,
        `model    ${result.model}`,
        `status   HTTP ${result.status}, finish_reason ${result.finishReason ?? "none"}`,
        `TTFT     ${result.ttftMs.toFixed(1)} ms`,
        `E2E      ${result.e2elMs.toFixed(1)} ms`,
        `tokens   ${result.promptTokens ?? "?"} in, ${result.completionTokens} out in ${result.chunks} chunks (counts from ${result.tokenSource})`,
        "ok",
      ].join("\n"),
    );
  } finally {
    interruption.dispose();
  }
}
