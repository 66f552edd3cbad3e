// The interpreter cache: where an install lives, its completion marker, and which installs match a
// version spec ("3.13": the newest patch release of the series; "3.13.5": exactly that one).
import { promises as fs } from 'node:fs';
import path from 'node:path';
import semver from 'semver';
import { UsageError } from '../../errors.js';

/**
 * release; debug = --with-pydebug; tsan = --with-thread-sanitizer, built with clang; coverage = release with
 * clang's SanitizerCoverage (edge flags and pc tables, native/ftfuzz_cov.c); tsan-coverage = both.
 */
export type Variant = 'release' | 'debug' | 'tsan' | 'coverage' | 'tsan-coverage';
export const VARIANTS: readonly Variant[] = ['release', 'debug', 'tsan', 'coverage', 'tsan-coverage'];

export function isTsanVariant(variant: Variant): boolean {
  return variant === 'tsan' || variant === 'tsan-coverage';
}

export function isCoverageVariant(variant: Variant): boolean {
  return variant === 'coverage' || variant === 'tsan-coverage';
}

export interface InstallMarker {
  version: string;
  variant: Variant;
  executable: string;
  source: string;
  configureArgs: string[];
  builtAt: string;
  buildSeconds: number;
  log: string;
}

/** The series tried, newest first, when no version is given: the embedded default. */
export const DEFAULT_SERIES = ['3.14', '3.13'];

export type VersionSpec = { kind: 'series'; series: string[] } | { kind: 'exact'; version: string };

export function parseVersionSpec(spec: string | undefined): VersionSpec {
  if (spec === undefined) return { kind: 'series', series: DEFAULT_SERIES };
  if (/^3\.\d+$/.test(spec)) return { kind: 'series', series: [spec] };
  if (/^3\.\d+\.\d+$/.test(spec)) return { kind: 'exact', version: spec };
  throw new UsageError(`--version ${spec}: expected a series like 3.13 or an exact release like 3.13.5`);
}

/** Newest first, for sorting (CPython release numbers are semver-shaped: 3.13.5). */
export function newestFirst(a: string, b: string): number {
  return semver.rcompare(semver.coerce(a) ?? '0.0.0', semver.coerce(b) ?? '0.0.0');
}

export function seriesOf(version: string): string {
  return version.split('.').slice(0, 2).join('.');
}

export function installId(version: string, variant: Variant): string {
  return `cpython-${version}t-${variant}`;
}

/** Complete installs in the cache (marker present), matching a spec and variant. */
export async function findInstalled(root: string, spec: VersionSpec, variant: Variant): Promise<InstallMarker[]> {
  const dir = path.join(root, 'pythons');
  let entries: string[] = [];
  try {
    entries = await fs.readdir(dir);
  } catch {
    return [];
  }
  const out: InstallMarker[] = [];
  for (const entry of entries) {
    try {
      const marker = JSON.parse(await fs.readFile(path.join(dir, entry, 'ftfuzz-install.json'), 'utf8')) as InstallMarker;
      if (marker.variant !== variant) continue;
      const matches =
        spec.kind === 'exact' ? marker.version === spec.version : spec.series.includes(seriesOf(marker.version));
      if (matches) out.push(marker);
    } catch {
      // no marker: not a complete install
    }
  }
  return out.sort((a, b) => newestFirst(a.version, b.version));
}
