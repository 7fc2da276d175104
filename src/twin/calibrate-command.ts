import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import type { Reporter } from "../reporter.js";
import { calibrateProfile, profileNameFromPath } from "./calibrate-profile.js";
import { formatCalibration } from "./format.js";
import { writeSimProfile } from "./profile.js";

export interface CalibrateOptions {
  out: string;
  name?: string;
  json?: boolean;
}

/** `orchestrate sim calibrate DIR... --out FILE.json`. */
export async function calibrateCommand(
  dirs: string[],
  options: CalibrateOptions,
  reporter: Reporter,
): Promise<void> {
  const profile = await calibrateProfile({
    dirs,
    name: options.name ?? profileNameFromPath(options.out),
    command: ["orchestrate", "sim", "calibrate", ...dirs, "--out", options.out].join(" "),
  });
  await mkdir(dirname(options.out), { recursive: true });
  await writeSimProfile(options.out, profile);
  reporter.result(
    options.json ? `${JSON.stringify(profile, null, 2)}` : `${formatCalibration(profile, options.out)}`,
  );
}
