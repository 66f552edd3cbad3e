// The programmatic API: what the CLI does, as library calls (the CLI only parses options and formats).
//
//   campaign   runCampaign                       ftfuzz fuzz
//   one run    checkProgram, loadProgram         ftfuzz run
//   programs   generateProgram, mutateProgram    ftfuzz gen
//   store      CrashStore                        crashes/<kind>-<id>/
//   triage     triageStore                       ftfuzz triage
//   minimize   minimizeBucket (minimize: a file) ftfuzz minimize
//   replay     collectReplayItems, replay        ftfuzz replay
//   report     loadReportData, renderReport      ftfuzz report
//   targets    discoverTargets, probeTarget, installPython, ensureDefaultTarget
export * from './types.js';
export * from './errors.js';
export { checkSeed, MAX_SEED_LENGTH, seedProblem } from './seed.js';
export { headerSafe, shellQuote, terminalSafe } from './text.js';
export { FINDING_KINDS, type FindingKindSpec } from './findingKinds.js';
export { checkProgram, loadProgram, resolveTargets, type CheckOptions, type CheckReport } from './check.js';
export { ALL_ORACLES, applyOracles, selectOracles, type Oracle } from './oracles/index.js';
export { signatureId } from './oracles/oracle.js';
export { ensureDefaultTarget, installPython, type InstallOptions, type InstallResult } from './runtime/provision.js';
export { discoverTargets, probeTarget } from './runtime/targets.js';
export { defaultLimits, type ResourceLimits } from './runtime/limits.js';
export { SpawnExecutor } from './runtime/spawnExecutor.js';
export { createExecutor } from './runtime/forkServerExecutor.js';
export type { Executor, ExecRequest } from './runtime/executor.js';
export { generateProgram, type GeneratedProgram } from './generators/program.js';
export { mutateProgram, readScenario } from './generators/mutators.js';
export { GENERATOR_VERSION, resolveGenOptions, type GenOptions } from './generators/scenario.js';
export { KINDS, OPS, type KindSpec, type OpSpec } from './generators/ops.js';
export { resolveSettings, SETTINGS, type CampaignSettings, type SettingsInput } from './campaign/settings.js';
export { runCampaign, type CampaignOptions, type CampaignStats, type CampaignFamily, type BucketSummary } from './campaign/fuzz.js';
export { CrashStore, mergeSightings, parseMeta, type BucketMeta, type Sighting } from './store/crashStore.js';
export { TRIAGE_DEFAULTS, triageStore, type TriageOptions, type TriageResult } from './triage/session.js';
export { groupFamilies, type FamilyRow } from './triage/families.js';
export { familyOf, type Family } from './trials/family.js';
export { absenceClaim, fisherGreater, fixedBetween, rateInterval, trialsNeeded, type Count } from './trials/claims.js';
export { minimize, type MinimizeOptions, type MinimizeResult } from './triage/minimize.js';
export { MINIMIZE_DEFAULTS, minimizeBucket, type MinimizeBucketOptions, type MinimizeBucketResult } from './triage/minimizeBucket.js';
export { collectReplayItems, isFailing, replay, REPLAY_DEFAULTS, toJUnit, type ReplayEntry, type ReplayItem, type ReplayOptions } from './triage/replay.js';
export { loadReportData, renderReport, type ReportData } from './report/report.js';
