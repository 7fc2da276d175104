/**
 * The simulator settings of one cell of a plan under a profile: the same layers the local target
 * stacks on a rendered service config (profile capacity < the plan's engine arguments and replica
 * counts < the profile's costs for the image's runtime), built from the plan directly so that a
 * prediction needs no rendered files.
 */
import type { Cell } from "../plan/expand.js";
import type { Plan } from "../plan/resolve.js";
import { mergeSimConfigInputs, parseSimConfig, type SimConfig } from "../sim/config.js";
import { profileCapacityLayer, profileSimLayer, type RuntimeFit } from "./profile.js";

export function simConfigForCell(plan: Plan, cell: Cell, fit: RuntimeFit): SimConfig {
  const kwargs = plan.model.engine_kwargs;
  const deployment = plan.model.deployment_config;
  const layered = mergeSimConfigInputs(
    profileCapacityLayer(fit),
    {
      replicas: cell.scale.replicas,
      ingress_replicas: cell.scale.ingress_replicas,
      engine: {
        max_num_seqs: positiveInt(kwargs.max_num_seqs),
        max_num_batched_tokens: positiveInt(kwargs.max_num_batched_tokens),
        max_model_len: positiveInt(kwargs.max_model_len),
        enable_prefix_caching: plan.model.prefix_caching,
        stream_batching_interval_ms: plan.model.stream_batching_interval_ms,
        max_ongoing_requests: positiveInt(deployment.max_ongoing_requests),
        max_queued_requests: integer(deployment.max_queued_requests),
      },
    },
    profileSimLayer(fit, effectiveSpeedup(plan)),
  );
  return parseSimConfig(layered, `the plan ${plan.name} with its profile`);
}

/** Only simulated GPUs can run faster than measured ones: on Anyscale the speed-up is 1. */
export function effectiveSpeedup(plan: Plan): number {
  return plan.target === "local" ? plan.model.profile_speedup : 1;
}

function positiveInt(value: unknown): number | undefined {
  return typeof value === "number" && Number.isInteger(value) && value > 0 ? value : undefined;
}

function integer(value: unknown): number | undefined {
  return typeof value === "number" && Number.isInteger(value) ? value : undefined;
}
