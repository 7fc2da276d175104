/**
 * The simulator's public surface. Other modules (the local target, the fake `anyscale` CLI,
 * benchmarks, tests) import from here rather than from the files behind it.
 */
export { killGroup, type SimulatorProcess, type SpawnOptions, spawnSimulator } from "./child.js";
export {
  type EngineConfig,
  type FaultConfig,
  type IngressConfig,
  mergeSimConfigInputs,
  PARENT_PID_ENV,
  parseSimConfig,
  SIM_CONFIG_ENV,
  type SimConfig,
  type SimConfigInput,
  simConfigFromEnv,
} from "./config.js";
export { Engine, type SequenceRequest, type SequenceSink } from "./engine.js";
export { type RuntimeName, type RuntimeProfile, runtimeProfile, SEED_IMAGE_ENV } from "./runtime-profile.js";
export { type ServiceListener, ServiceModel, type ServiceRequest } from "./service.js";
export { type RunningSimulator, startSimulator } from "./simulator.js";
export type { RequestRecord, RequestStatus, StatsSnapshot } from "./stats.js";
