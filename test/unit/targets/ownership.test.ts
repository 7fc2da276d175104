import { describe, expect, it } from "vitest";
import { judgeOwnership, NotOurService, type ServiceStatus } from "../../../src/targets/target.js";

/** The one rule every teardown, sweep, resume and status follows: id and version must match. */
const recorded = { id: "service2_ours", versionId: "v_ours_0001" };
const status = (over: Partial<ServiceStatus>): ServiceStatus => ({
  name: "svc-x1",
  state: "RUNNING",
  id: recorded.id,
  versionId: recorded.versionId,
  ...over,
});

describe("judgeOwnership", () => {
  it("no service under the name: absent", () => {
    expect(judgeOwnership(undefined, recorded)).toEqual({ kind: "absent" });
  });

  it("the recorded id and version: ours", () => {
    expect(judgeOwnership(status({}), recorded).kind).toBe("ours");
  });

  it("another id: a new service under our name, not ours", () => {
    const judged = judgeOwnership(status({ id: "service2_theirs", versionId: "v_theirs_01" }), recorded);
    expect(judged.kind).toBe("not_ours");
    const error = (judged as { error: NotOurService }).error;
    expect(error).toBeInstanceOf(NotOurService);
    expect(error.message).toBe(
      "service svc-x1 is not ours: it has id service2_theirs, this run's was service2_ours; left alone",
    );
  });

  it("our id with another version: the name deployed again after ours (a restart), not ours", () => {
    const judged = judgeOwnership(status({ versionId: "v_later_002" }), recorded);
    expect(judged.kind).toBe("not_ours");
    expect((judged as { error: NotOurService }).error).toMatchObject({
      foundId: recorded.id,
      foundVersionId: "v_later_002",
      message:
        "service svc-x1 is not ours: it was deployed again after ours (version v_later_002, this run's was v_ours_0001); left alone",
    });
  });

  it("compares only what both sides know: a TERMINATED service has no version, an old journal no version", () => {
    expect(judgeOwnership(status({ state: "TERMINATED", versionId: undefined }), recorded).kind).toBe("ours");
    // Someone else's terminated service is still not ours: deploying over it would restart theirs.
    expect(judgeOwnership(status({ state: "TERMINATED", id: "service2_theirs" }), recorded).kind).toBe(
      "not_ours",
    );
    expect(judgeOwnership(status({ versionId: "v_later_002" }), { id: recorded.id }).kind).toBe("ours");
    expect(judgeOwnership(status({ versionId: undefined }), recorded).kind).toBe("ours");
  });

  it("nothing recorded (a crash before the id was read): the name alone decides", () => {
    expect(judgeOwnership(status({ id: "service2_any" }), undefined).kind).toBe("ours");
  });
});
