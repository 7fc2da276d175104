import { describe, expect, it } from "vitest";
import { invocationFrom, shellWord } from "../../src/invocation.js";

/** The follow-up commands we print start the way the person started orchestrate. */
describe("how orchestrate was started", () => {
  it("through npx: from npx's cache, or a project's node_modules/.bin", () => {
    expect(invocationFrom("/root/.npm/_npx/55ec986a4bf2a55b/node_modules/.bin/orchestrate", "/work")).toBe(
      "npx orchestrate",
    );
    expect(invocationFrom("/home/me/proj/node_modules/.bin/orchestrate", "/home/me/proj")).toBe(
      "npx orchestrate",
    );
  });

  it("installed on PATH: the bare name", () => {
    expect(invocationFrom("/usr/local/bin/orchestrate", "/work")).toBe("orchestrate");
    expect(invocationFrom("/home/me/.nvm/versions/node/v20.19.0/bin/orchestrate", "/work")).toBe(
      "orchestrate",
    );
  });

  it("node given the file itself: the same file, relative to the folder when below it", () => {
    expect(invocationFrom("/work/orchestrate/dist/bin.js", "/work/orchestrate")).toBe("node dist/bin.js");
    expect(invocationFrom("/opt/orchestrate/dist/bin.js", "/work")).toBe("node /opt/orchestrate/dist/bin.js");
    expect(invocationFrom("/opt/my tools/dist/bin.js", "/work")).toBe("node '/opt/my tools/dist/bin.js'");
  });

  it("quotes a word for the shell only when it must", () => {
    expect(shellWord("results/gptoss-120b-20261130-101500")).toBe("results/gptoss-120b-20261130-101500");
    expect(shellWord("my run")).toBe("'my run'");
    expect(shellWord("it's")).toBe("'it'\\''s'");
  });
});
