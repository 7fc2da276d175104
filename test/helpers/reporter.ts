import { PassThrough } from "node:stream";
import type { Reporter } from "../../src/reporter.js";

/** A Reporter that keeps what a command core said, answer and notes in the order they came. */
export function capturingReporter(): { reporter: Reporter; said: () => string } {
  const lines: string[] = [];
  const reporter: Reporter = {
    result: (text) => {
      lines.push(text);
    },
    resultPiece: async (text) => {
      lines.push(text);
    },
    note: (text) => {
      lines.push(text);
    },
    progress: new PassThrough() as unknown as NodeJS.WriteStream,
  };
  return { reporter, said: () => lines.join("\n") };
}
