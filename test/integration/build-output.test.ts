import { statSync } from "node:fs";
import { describe, expect, it } from "vitest";

// `npm test` builds first; the bin must come out executable, or an npx link cached from an
// earlier clone of this folder runs it as it is and fails with "Permission denied".
describe("the build", () => {
  it("leaves dist/bin.js executable", () => {
    const mode = statSync(new URL("../../dist/bin.js", import.meta.url)).mode;
    expect(mode & 0o111).toBe(0o111);
  });
});
