// The programmatic API: everything the CLI does, usable from TypeScript.
export * from './types.js';
export * from './errors.js';
export { checkProgram, loadProgram, resolveTargets, type CheckOptions, type CheckReport } from './check.js';
export { ALL_ORACLES, applyOracles, selectOracles, type Oracle } from './oracles/index.js';
export { signatureId } from './oracles/oracle.js';
export { ensureDefaultTarget, installPython, type InstallOptions, type InstallResult } from './runtime/provision.js';
export { discoverTargets, probeTarget } from './runtime/targets.js';
export { SpawnExecutor } from './runtime/spawnExecutor.js';
export type { Executor, ExecRequest } from './runtime/executor.js';
