import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { calibrateProfile, profileNameFromPath } from "./calibrate-profile.js";
import { formatCalibration } from "./format.js";
import { writeSimProfile } from "./profile.js";

/** `orchestrate sim calibrate DIR... --out FILE.json`. */
export async function calibrateCommand(
  dirs: string[],
  options: { out: string; name?: string; json?: boolean },
): Promise<void> {
  const profile = await calibrateProfile({
    dirs,
    name: options.name ?? profileNameFromPath(options.out),
    command: ["orchestrate", "sim", "calibrate", ...dirs, "--out", options.out].join(" "),
  });
  await mkdir(dirname(options.out), { recursive: true });
  await writeSimProfile(options.out, profile);
  process.stdout.write(
    options.json ? `${JSON.stringify(profile, null, 2)}\n` : `${formatCalibration(profile, options.out)}\n`,
  );
}
