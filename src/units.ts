// Units a user types: durations (`30s`, `10m`, `2h`).
import ms, { type StringValue } from 'ms';
import { UsageError } from './errors.js';

/** `--timeout 30s`, `--budget 10m`, `--duration 2h` (the `ms` package); a bare number is seconds. */
export function parseDuration(text: string | number, option: string): number {
  const value = typeof text === 'number' || /^\s*\d+(?:\.\d+)?\s*$/.test(text) ? Number(text) * 1000 : ms(text.trim() as StringValue);
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new UsageError(`${option} ${text}: expected a duration like 500ms, 30s, 10m or 2h`);
  return Math.round(value);
}

/** A duration as `parseDuration` reads it back: 600000 -> `10m`, 30000 -> `30s` (the `ms` package). */
export function formatDuration(milliseconds: number): string {
  return ms(milliseconds);
}
