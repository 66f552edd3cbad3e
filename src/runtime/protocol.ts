// The program protocol, version 1: how a run's observations travel from the Python side to ftfuzz.
// One JSON object per line on the file descriptor named by FTFUZZ_REPORT_FD, each with "ftfuzz": 1 and a
// "type". Unknown types are kept in `records` (newer programs stay readable by older oracles).
import type { GilMode, ProtocolRecord, RunResult } from '../types.js';

export const PROTOCOL_VERSION = 1;

export type RunFields = Pick<
  RunResult,
  | 'modeObservedAtStart'
  | 'modeObservedAtEnd'
  | 'observables'
  | 'expected'
  | 'racy'
  | 'threadExceptions'
  | 'uncaughtException'
  | 'protocolErrors'
  | 'records'
>;

export function emptyRunFields(): RunFields {
  return {
    modeObservedAtStart: null,
    modeObservedAtEnd: null,
    observables: null,
    expected: null,
    racy: [],
    threadExceptions: [],
    uncaughtException: null,
    protocolErrors: [],
    records: [],
  };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const text = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v));

function modeOf(gilEnabled: unknown): GilMode | null {
  return typeof gilEnabled === 'boolean' ? (gilEnabled ? 'gil-on' : 'gil-off') : null;
}

/** Fold one protocol record into the run's fields; malformed records become protocol errors. */
export function applyRecord(fields: RunFields, record: ProtocolRecord): void {
  if (!isObject(record) || typeof record.type !== 'string') {
    fields.protocolErrors.push(`record without a type: ${JSON.stringify(record).slice(0, 200)}`);
    return;
  }
  if (record.ftfuzz !== PROTOCOL_VERSION) {
    fields.protocolErrors.push(`unsupported protocol version ${String(record.ftfuzz)} (this ftfuzz speaks ${PROTOCOL_VERSION})`);
    return;
  }
  switch (record.type) {
    case 'start':
      fields.modeObservedAtStart = modeOf(record.gil_enabled);
      break;
    case 'end':
      fields.modeObservedAtEnd = modeOf(record.gil_enabled);
      break;
    case 'observables': {
      if (!isObject(record.data)) {
        fields.protocolErrors.push('observables record without a "data" object');
        break;
      }
      fields.observables = { ...(fields.observables ?? {}), ...record.data };
      if (isObject(record.expected)) fields.expected = { ...(fields.expected ?? {}), ...record.expected };
      if (Array.isArray(record.racy)) fields.racy.push(...record.racy.filter((r): r is string => typeof r === 'string'));
      break;
    }
    case 'thread-exception':
      fields.threadExceptions.push({
        thread: text(record.thread),
        excType: text(record.exc_type),
        message: text(record.message),
      });
      break;
    case 'exception':
      fields.uncaughtException = { excType: text(record.exc_type), message: text(record.message) };
      break;
    default:
      fields.records.push(record);
  }
}

/** Protocol lines of a finished run (a report file), into the run's fields. */
export function applyReport(fields: RunFields, text: string): void {
  for (const line of text.split('\n')) if (line.trim()) applyLine(fields, line);
}

export function applyLine(fields: ReturnType<typeof emptyRunFields>, line: string): void {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    fields.protocolErrors.push(`not JSON: ${line.slice(0, 200)}`);
    return;
  }
  applyRecord(fields, record as ProtocolRecord);
}
