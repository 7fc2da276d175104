import { UserError } from "../errors.js";
import { type Plan, type ResolvedImage, type ResolvedScale, serviceName, workerNodesFor } from "./resolve.js";

/** One image × scale combination: one service, deployed, benchmarked and torn down on its own. */
export interface Cell {
  /** Position in plan order (images outer, scales inner), from 0. */
  index: number;
  /** "rayoss-251-x4": unique within a plan. */
  id: string;
  serviceName: string;
  image: ResolvedImage;
  scale: ResolvedScale;
  /** GPUs the LLM replicas use (replicas × tensor parallel). */
  gpus: number;
  /** Worker nodes, when the plan says how many GPUs a node has. */
  workerNodes?: number;
  /** Where its config is rendered, relative to the render root. */
  configPath: string;
}

/** `--only image=rayoss-251,scale=4`: every condition of one filter must hold. */
export interface CellFilter {
  image?: string;
  scale?: number;
}

export function expandCells(plan: Plan, filters: readonly CellFilter[] = []): Cell[] {
  const all: Cell[] = [];
  for (const image of plan.images) {
    for (const scale of plan.scales) {
      const name = serviceName(plan, image, scale.replicas);
      const cell: Cell = {
        index: all.length,
        id: `${image.name}-x${scale.replicas}`,
        serviceName: name,
        image,
        scale,
        gpus: scale.replicas * plan.model.tensor_parallel_size,
        configPath: `${image.configs_dir}/${name}.yaml`,
      };
      if (plan.compute.gpus_per_node !== undefined) {
        cell.workerNodes = workerNodesFor(
          scale.replicas,
          plan.model.tensor_parallel_size,
          plan.compute.gpus_per_node,
        );
      }
      all.push(cell);
    }
  }
  if (filters.length === 0) return all;
  const chosen = all.filter((cell) => filters.some((f) => matches(cell, f)));
  if (chosen.length === 0) {
    const images = plan.images.map((i) => i.name).join(", ");
    const scales = plan.scales.map((s) => s.replicas).join(", ");
    throw new UserError(`--only matches no cell of plan ${plan.name}`, {
      hint: `images are ${images}; scales are ${scales}`,
    });
  }
  return chosen;
}

function matches(cell: Cell, filter: CellFilter): boolean {
  return (
    (filter.image === undefined || filter.image === cell.image.name) &&
    (filter.scale === undefined || filter.scale === cell.scale.replicas)
  );
}

/** Parses one `--only` value: comma-separated `image=NAME` and `scale=N` conditions. */
export function parseCellFilter(spec: string): CellFilter {
  const filter: CellFilter = {};
  for (const part of spec
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [key, value, ...rest] = part.split("=");
    if (value === undefined || value === "" || rest.length > 0) {
      throw new UserError(`--only ${spec}: "${part}" is not key=value`, {
        hint: "example: --only image=rayoss-251,scale=4",
      });
    }
    if (key === "image") filter.image = value;
    else if (key === "scale") {
      const scale = Number(value.replace(/^x/, ""));
      if (!Number.isInteger(scale) || scale <= 0)
        throw new UserError(`--only ${spec}: scale must be a positive whole number`);
      filter.scale = scale;
    } else {
      throw new UserError(`--only ${spec}: unknown condition "${key}"`, {
        hint: "use image=NAME and scale=N",
      });
    }
  }
  if (filter.image === undefined && filter.scale === undefined) {
    throw new UserError(`--only needs image=NAME and/or scale=N`);
  }
  return filter;
}
