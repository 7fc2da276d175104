import type { ResolvedImage } from "../plan/resolve.js";

/**
 * An image definition for `anyscale image build` (or a `containerfile:` deploy). The runtime
 * switches are baked in with ENV because they are read when the container starts, before any
 * application runtime_env exists. ENV lines keep the plan's order.
 */
export function renderContainerfile(image: ResolvedImage, planName: string): string {
  const lines = [
    `# Rendered by orchestrate from plan "${planName}" (image ${image.name}, ${image.runtime === "oss" ? "open-source Ray" : "RayTurbo"}).`,
    "# Do not edit: change the plan and run `orchestrate render`.",
    `FROM ${image.from}`,
  ];
  const env = Object.entries(image.env);
  if (env.length > 0) lines.push("");
  for (const [name, value] of env) lines.push(`ENV ${name}=${quoteEnvValue(value)}`);
  return `${lines.join("\n")}\n`;
}

export function containerfilePath(image: Pick<ResolvedImage, "name">): string {
  return `images/${image.name}/Containerfile`;
}

function quoteEnvValue(value: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]*$/.test(value) && value !== "" ? value : JSON.stringify(value);
}
