import { CommanderError } from "commander";
import { describe, expect, it } from "vitest";
import { exitCodeFor, formatError } from "../../src/cli.js";
import { ExternalError, Interrupted, UserError } from "../../src/errors.js";

describe("exit codes", () => {
  it("maps each kind of failure to its documented code", () => {
    expect(exitCodeFor(new UserError("bad plan"))).toBe(2);
    expect(exitCodeFor(new ExternalError("cli failed"))).toBe(1);
    expect(exitCodeFor(new Interrupted())).toBe(130);
    expect(exitCodeFor(new Error("bug"))).toBe(1);
    expect(exitCodeFor(new CommanderError(1, "commander.unknownOption", "unknown option"))).toBe(2);
    expect(exitCodeFor(new CommanderError(0, "commander.helpDisplayed", "(help)"))).toBe(0);
  });

  it("prints user errors with their details and hint", () => {
    const text = formatError(
      new UserError("plan is invalid", { details: ["• a.b: wrong"], hint: "fix the plan" }),
    );
    expect(text).toBe("error: plan is invalid\n  • a.b: wrong\nhint: fix the plan");
  });

  it("labels unexpected errors as bugs, with the stack", () => {
    expect(formatError(new TypeError("x is undefined"))).toMatch(/^internal error \(this is a bug/);
  });
});
