// Provides the interpreters the integration tests run on. On a fresh machine this builds them from
// source into the ftfuzz cache (a few minutes each, once); afterwards it finds them in the cache.
import { execFileSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { installPython } from '../src/runtime/provision.js';
import { whichOnPath } from '../src/runtime/targets.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The default free-threaded interpreter (newest obtainable release build). */
    ftPython: string;
    /** An older exact release, installed side by side (cross-version tests). */
    ftPythonOld: string;
    /** A --with-pydebug free-threaded build. */
    ftPythonDebug: string;
    /** A --with-thread-sanitizer free-threaded build (clang), with CPython's suppressions beside it. */
    ftPythonTsan: string;
    /** A SanitizerCoverage build (variant coverage) of the old release: collision feedback tests. */
    ftPythonCoverage: string;
    /** The machine's GIL-only python3, or '' if none. */
    gilPython: string;
  }
}

const logAs = (label: string) => (line: string) => process.stderr.write(`[globalSetup ${label}] ${line}\n`);

export default async function setup(project: TestProject): Promise<void> {
  // On a fresh machine the three builds run at once: each configure is single-threaded (~80 s), so
  // overlapping them with another build's make keeps both cores busy (measured in the closing note of issue 2).
  const mainVersion = process.env.FTFUZZ_TEST_VERSION;
  // The debug build takes the same version spec, which resolves to the same release.
  // One failed build stops the others (their processes killed, their work directories removed) before the
  // error is reported, so a failed setup leaves nothing half-built behind and vitest exits at once.
  const stop = new AbortController();
  let firstError: unknown;
  const builds = [
    { version: mainVersion, label: 'default' },
    { version: process.env.FTFUZZ_TEST_OLD_VERSION ?? '3.13.5', label: 'old' },
    { version: mainVersion, variant: 'debug' as const, label: 'debug' },
    { version: mainVersion, variant: 'tsan' as const, label: 'tsan' },
    { version: process.env.FTFUZZ_TEST_OLD_VERSION ?? '3.13.5', variant: 'coverage' as const, label: 'coverage' },
  ].map((b) =>
    installPython({ version: b.version, variant: b.variant, log: logAs(b.label), signal: stop.signal }).catch((error: unknown) => {
      if (!stop.signal.aborted) {
        firstError = error;
        stop.abort();
      }
      throw error;
    }),
  );
  const settled = await Promise.allSettled(builds);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw firstError ?? failed.reason;
  const [main, old, debug, tsan, coverage] = settled.map((r) => (r as PromiseFulfilledResult<Awaited<ReturnType<typeof installPython>>>).value) as [
    Awaited<ReturnType<typeof installPython>>,
    Awaited<ReturnType<typeof installPython>>,
    Awaited<ReturnType<typeof installPython>>,
    Awaited<ReturnType<typeof installPython>>,
    Awaited<ReturnType<typeof installPython>>,
  ];
  project.provide('ftPython', main.target.executable);
  project.provide('ftPythonOld', old.target.executable);
  project.provide('ftPythonDebug', debug.target.executable);
  project.provide('ftPythonTsan', tsan.target.executable);
  project.provide('ftPythonCoverage', coverage.target.executable);
  let gil = '';
  const python3 = await whichOnPath('python3');
  if (python3) {
    const ft = execFileSync(python3, ['-c', 'import sysconfig; print(sysconfig.get_config_var("Py_GIL_DISABLED"))']).toString().trim();
    if (ft !== '1') gil = python3;
  }
  project.provide('gilPython', gil);
}
