// Edge coverage of the interpreter's C code, from ftfuzz's coverage builds (provision variant `coverage`,
// `tsan-coverage`: clang SanitizerCoverage with edge flags and pc tables, runtime in native/ftfuzz_cov.c).
//
// A run on such a build writes the edges it reached (FTFUZZ_COV_OUT, set per run by the executors; the
// harness clears the flags before the program and dumps them after it, fork-server workers included). An
// edge is (object file, index in its pc table): fixed by the build, so edges compare across processes.
// Once per build, the map from edges to functions is made: the runtime writes every object's pc table
// (`ftfuzz_cov_layout`, with every stdlib extension module imported), llvm-symbolizer names each
// function's entry pc, and the map is cached under the cache directory.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { writeFileAtomic } from '../atomicWrite.js';
import { EnvironmentError } from '../errors.js';
import type { Target } from '../types.js';
import { cacheDir, WITNESS_LABEL_FILE } from './paths.js';
import { findSymbolizer, invocation } from './tsan.js';
import { LABEL_SPAN, WITNESS_FUNCTIONS, type WitnessLabelLines } from './witnesses.js';

const execFileAsync = promisify(execFile);

/** One object's flags in a run: which of its `edges` edges were reached (bit i of byte i>>3). */
export interface ObjectEdges {
  /** The object file's absolute path (the interpreter, or an extension module). */
  object: string;
  edges: number;
  bits: Uint8Array;
}

const DUMP_MAGIC = 'FTCOV1\n';
const LAYOUT_MAGIC = 'FTCOVL1\n';

/** A malformed dump or layout (a file ftfuzz did not write, or one cut short): the reason, for a one-line error. */
export class CoverageFormatError extends Error {}

function readHeader(buf: Buffer, at: number): { object: string; edges: number; at: number } {
  if (at + 4 > buf.length) throw new CoverageFormatError(`cut short at byte ${at} (object name length)`);
  const len = buf.readUInt32LE(at);
  if (len === 0 || len > 4096 || at + 4 + len + 8 > buf.length) throw new CoverageFormatError(`bad object name length ${len} at byte ${at}`);
  const object = buf.toString('utf8', at + 4, at + 4 + len);
  const edges = buf.readBigUInt64LE(at + 4 + len);
  if (edges === 0n || edges > 50_000_000n) throw new CoverageFormatError(`bad edge count ${edges} for ${object}`);
  return { object, edges: Number(edges), at: at + 4 + len + 8 };
}

/**
 * The objects of a dump or a layout: after the magic, per object a header (name, edge count) and a body of
 * `bytesPer(edges)` bytes, read by `read`. Throws CoverageFormatError.
 */
function readObjects<T>(buf: Buffer, magic: string, what: string, body: string, bytesPer: (edges: number) => number, read: (object: string, edges: number, at: number) => T): T[] {
  if (buf.toString('latin1', 0, magic.length) !== magic) throw new CoverageFormatError(`not an ftfuzz coverage ${what} (magic)`);
  const out: T[] = [];
  let at = magic.length;
  while (at < buf.length) {
    const h = readHeader(buf, at);
    const bytes = bytesPer(h.edges);
    if (h.at + bytes > buf.length) throw new CoverageFormatError(`cut short in the ${body} of ${h.object}`);
    out.push(read(h.object, h.edges, h.at));
    at = h.at + bytes;
  }
  return out;
}

/** Parse a run's dump (native/ftfuzz_cov.c `ftfuzz_cov_dump`). Throws CoverageFormatError. */
export function parseEdgeDump(buf: Buffer): ObjectEdges[] {
  return readObjects(buf, DUMP_MAGIC, 'dump', 'flags', (edges) => Math.ceil(edges / 8), (object, edges, at) => ({ object, edges, bits: new Uint8Array(buf.subarray(at, at + Math.ceil(edges / 8))) }));
}

/** Whether a run reached edge `e` of an object. */
export function hasEdge(o: ObjectEdges, e: number): boolean {
  return (((o.bits[e >> 3] ?? 0) >> (e & 7)) & 1) === 1;
}

/** One object's pc table: per edge, its pc as an offset in the file, and whether it is a function's entry. */
export interface ObjectLayout {
  object: string;
  offsets: bigint[];
  entries: boolean[];
}

/** Parse a build's layout (native/ftfuzz_cov.c `ftfuzz_cov_layout`). Throws CoverageFormatError. */
export function parseLayout(buf: Buffer): ObjectLayout[] {
  return readObjects(buf, LAYOUT_MAGIC, 'layout', 'pc table', (edges) => edges * 16, (object, edges, at) => {
    const offsets: bigint[] = [];
    const entries: boolean[] = [];
    for (let i = 0; i < edges; i++) {
      offsets.push(buf.readBigUInt64LE(at + 16 * i));
      entries.push((buf.readBigUInt64LE(at + 16 * i + 8) & 1n) === 1n);
    }
    return { object, offsets, entries };
  });
}

/** A function of the map: its name and source file (relative to the CPython tree where it is in one). */
export interface MappedFunction {
  name: string;
  file: string;
}

/** The map of one object: its functions, and the edge index where each one's edges start (ascending). */
export interface ObjectMap {
  object: string;
  edges: number;
  functions: MappedFunction[];
  starts: number[];
}

/** What a cached map holds; a map of another format is made again. */
const MAP_FORMAT = 3;

export interface CoverageMapFile {
  format: typeof MAP_FORMAT;
  executable: string;
  builtFrom: string;
  objects: ObjectMap[];
  /** Edges of the label witness rules (witnesses.ts WITNESS_LABELS), found by their lines in this build. */
  labels: { rule: string; object: string; edges: number[] }[];
  /**
   * Witness edges a single-threaded program reaches on this build (a thread re-entering its own object's
   * critical section takes the slow path too: Buffered.close -> flush on 3.13): never a witness here.
   */
  aloneEdges: { object: string; edges: number[] }[];
}

/** The edges of function `i` of an object: [first, end). */
export function edgeRange(o: Pick<ObjectMap, 'starts' | 'edges'>, i: number): [number, number] {
  return [o.starts[i] as number, o.starts[i + 1] ?? o.edges];
}

/** The CPython tree's part of a path: `/tmp/build/Python-3.13.5/Objects/dictobject.c` -> `Objects/dictobject.c`. */
export function treeRelative(file: string): string {
  const m = /(?:^|\/)((?:Objects|Python|Modules|Parser|Include|Programs)\/.*)$/.exec(file);
  return m?.[1] ?? file;
}

export class CoverageMap {
  private readonly byObject: Map<string, ObjectMap>;
  readonly total: number;

  constructor(readonly file: CoverageMapFile) {
    this.byObject = new Map(file.objects.map((o) => [o.object, o]));
    this.total = file.objects.reduce((n, o) => n + o.edges, 0);
  }

  object(name: string): ObjectMap | undefined {
    return this.byObject.get(name);
  }

  /** The function edge `index` of `object` is in, or null for an object the map does not know. */
  functionOf(object: string, index: number): MappedFunction | null {
    const o = this.byObject.get(object);
    if (!o || o.starts.length === 0) return null;
    let lo = 0;
    let hi = o.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((o.starts[mid] as number) <= index) lo = mid;
      else hi = mid - 1;
    }
    return o.functions[lo] ?? null;
  }

  /**
   * The witness edges of this build: per object, edge index -> witness rule id. Edges a single-threaded
   * program reaches here are left out (`aloneEdges`), unless `all`.
   */
  witnessEdges(all = false): Map<string, Map<number, string>> {
    const skip = new Set(all ? [] : this.file.aloneEdges.flatMap((a) => a.edges.map((e) => `${a.object}\0${e}`)));
    const out = new Map<string, Map<number, string>>();
    const add = (object: string, edge: number, rule: string) => {
      if (skip.has(`${object}\0${edge}`)) return;
      let m = out.get(object);
      if (!m) {
        m = new Map<number, string>();
        out.set(object, m);
      }
      m.set(edge, rule);
    };
    const ruleOf = new Map(WITNESS_FUNCTIONS.flatMap((w) => (w.functions ?? []).map((f) => [f, w.id] as const)));
    for (const o of this.file.objects) {
      o.functions.forEach((f, i) => {
        const rule = ruleOf.get(f.name);
        if (!rule) return;
        const [first, end] = edgeRange(o, i);
        for (let e = first; e < end; e++) add(o.object, e, rule);
      });
    }
    for (const l of this.file.labels) for (const e of l.edges) add(l.object, e, l.rule);
    return out;
  }

  /** The witness rules this build can show (its functions or labels are in the map, not reached alone). */
  witnessRules(): string[] {
    const rules = new Set<string>();
    for (const m of this.witnessEdges().values()) for (const r of m.values()) rules.add(r);
    return [...rules].sort();
  }
}

/** Python run once per build: import every stdlib extension module (their tables register at load), then write the layout. */
const LAYOUT_SCRIPT = `
import ctypes, os, sys, sysconfig, importlib
out = sys.argv[1]
dyn = sysconfig.get_path("platstdlib")
load = os.path.join(dyn, "lib-dynload")
for name in sorted(os.listdir(load)) if os.path.isdir(load) else []:
    if name.endswith(".so"):
        mod = name.split(".")[0]
        if mod in ("_tkinter", "readline", "_curses", "_curses_panel"):
            continue
        try:
            importlib.import_module(mod)
        except BaseException:
            pass
for mod in sys.argv[2:]:
    try:
        importlib.import_module(mod)
    except BaseException:
        pass
lib = ctypes.CDLL(None)
if lib.ftfuzz_cov_layout(os.fsencode(out)) != 0:
    sys.exit("ftfuzz_cov_layout failed")
`;

async function buildIdentity(executable: string): Promise<string> {
  const st = await fs.stat(executable);
  return `${executable}:${st.size}:${st.mtimeMs}`;
}

/** Symbolize offsets of one object file with llvm-symbolizer: function name, file and line per offset. */
async function symbolize(symbolizer: string, object: string, offsets: bigint[]): Promise<(MappedFunction & { line: number })[]> {
  const out: (MappedFunction & { line: number })[] = [];
  const chunk = 20_000;
  for (let i = 0; i < offsets.length; i += chunk) {
    const part = offsets.slice(i, i + chunk);
    const input = part.map((o) => `0x${o.toString(16)}`).join('\n');
    const text = await new Promise<string>((resolve, reject) => {
      const child = execFile(symbolizer, ['--obj', object, '--functions=linkage', '--no-inlines'], { maxBuffer: 256 * 1024 * 1024 }, (error: Error | null, stdout: string) => (error ? reject(error) : resolve(stdout)));
      child.stdin?.end(`${input}\n`);
    });
    // Per address: a function line, a file:line:col line, a blank line.
    const blocks = text.split(/\n\n/).filter((b) => b.trim().length > 0);
    for (let j = 0; j < part.length; j++) {
      const [name = '??', where = '??'] = (blocks[j] ?? '').split('\n');
      const line = Number(/:(\d+)(?::\d+)?$/.exec(where.trim())?.[1] ?? 0);
      out.push({ name: name.trim(), file: treeRelative(where.replace(/:\d+(:\d+)?$/, '').trim()), line });
    }
  }
  return out;
}

const maps = new Map<string, Promise<CoverageMap>>();

/**
 * The edge-to-function map of a coverage build: made once (6-7 s for 3.13.5t's 10,437 functions) and cached under the cache directory, keyed by the executable's path, size and time.
 * `modules`: extension modules (beyond the stdlib's) to import so their tables are in the layout too.
 */
export function coverageMapFor(target: Pick<Target, 'path' | 'executable' | 'sanitizers' | 'tsanSuppressions' | 'coverage'>, modules: readonly string[] = [], root = cacheDir()): Promise<CoverageMap> {
  const key = `${target.executable}\0${modules.join(',')}`;
  let pending = maps.get(key);
  if (!pending) {
    pending = makeMap(target, modules, root);
    maps.set(key, pending);
    pending.catch(() => maps.delete(key));
  }
  return pending;
}

async function makeMap(target: Pick<Target, 'path' | 'executable' | 'sanitizers' | 'tsanSuppressions' | 'coverage'>, modules: readonly string[], root: string): Promise<CoverageMap> {
  if (!target.coverage) throw new EnvironmentError(`${target.path} is not a coverage build; install one with \`ftfuzz python install --variant coverage\``);
  const identity = await buildIdentity(target.executable);
  const digest = createHash('sha256').update(`${identity}\0${modules.join(',')}`).digest('hex').slice(0, 16);
  const cached = path.join(root, 'coverage-maps', `${digest}.json`);
  try {
    const file = JSON.parse(await fs.readFile(cached, 'utf8')) as CoverageMapFile;
    if (file.format === MAP_FORMAT && file.builtFrom === identity) return new CoverageMap(file);
  } catch {
    // not made yet, or unreadable: made again
  }
  const symbolizer = await findSymbolizer();
  if (!symbolizer) throw new EnvironmentError('mapping coverage edges to functions needs llvm-symbolizer; run `ftfuzz setup --for tsan` (Debian package llvm)');
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-layout-'));
  try {
    const out = path.join(tmp, 'layout.bin');
    const how = await invocation(target);
    await execFileAsync(how.command, [...how.prefix, '-I', '-c', LAYOUT_SCRIPT, out, ...modules], { env: { ...process.env, ...how.env }, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 });
    const layout = parseLayout(await fs.readFile(out));
    const labelLines = JSON.parse(await fs.readFile(path.join(path.dirname(path.dirname(target.executable)), WITNESS_LABEL_FILE), 'utf8').catch(() => '{}')) as WitnessLabelLines;
    const objects: ObjectMap[] = [];
    const labels: CoverageMapFile['labels'] = [];
    for (const o of layout) {
      const starts = o.entries.flatMap((e, i) => (e ? [i] : []));
      const functions = (await symbolize(symbolizer, o.object, starts.map((i) => o.offsets[i] as bigint))).map(({ name, file }) => ({ name, file }));
      objects.push({ object: o.object, edges: o.offsets.length, functions, starts });
      labels.push(...(await labelEdges(symbolizer, o, starts, functions, labelLines)));
    }
    const partial: CoverageMapFile = { format: MAP_FORMAT, executable: target.executable, builtFrom: identity, objects, labels, aloneEdges: [] };
    const file: CoverageMapFile = { ...partial, aloneEdges: await reachedAlone(how, new CoverageMap(partial), tmp) };
    await fs.mkdir(path.dirname(cached), { recursive: true });
    await writeFileAtomic(cached, JSON.stringify(file));
    return new CoverageMap(file);
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

/**
 * The edges of each label rule in one object: every edge of the functions in the rule's file is
 * symbolized with its line, and those on the lines just after a label (the label's block) are kept.
 */
async function labelEdges(symbolizer: string, o: ObjectLayout, starts: number[], functions: MappedFunction[], lines: WitnessLabelLines): Promise<CoverageMapFile['labels']> {
  const out: CoverageMapFile['labels'] = [];
  for (const [rule, where] of Object.entries(lines)) {
    const edges: number[] = [];
    functions.forEach((f, i) => {
      if (f.file !== where.file) return;
      const [first, end] = edgeRange({ starts, edges: o.offsets.length }, i);
      for (let e = first; e < end; e++) edges.push(e);
    });
    if (edges.length === 0) continue;
    const located = await symbolize(symbolizer, o.object, edges.map((e) => o.offsets[e] as bigint));
    const kept = edges.filter((_, k) => {
      const line = located[k]?.line ?? 0;
      return located[k]?.file === where.file && where.lines.some((l) => line > l && line <= l + LABEL_SPAN);
    });
    if (kept.length) out.push({ rule, object: o.object, edges: kept });
  }
  return out;
}

/** A single-threaded program on builtin containers, files and the modules programs import. */
const ALONE_SCRIPT = `
import ctypes, gc, io, json, os, sys, collections, itertools, functools, array, weakref, threading
lib = ctypes.CDLL(None)
lib.ftfuzz_cov_reset()
path = sys.argv[1] + ".txt"
for mode in ("w", "wb", "a"):
    with open(path, mode) as f:
        f.write("x" * 10000 if "b" not in mode else b"x" * 10000)
        f.flush()
with open(path, "rb") as f:
    f.read(); f.seek(0); f.readline()
with open(path) as f:
    for line in f:
        pass
os.remove(path)
t = io.TextIOWrapper(io.BufferedRandom(io.BytesIO())); t.write("abc"); t.flush(); t.seek(0); t.read(); t.close()
d = {str(i): i for i in range(5000)}
for i in range(5000):
    d[str(i)] = d.get(str(i), 0) + 1
    d.pop(str(i - 1), None)
l = list(range(10000)); l.sort(reverse=True); l[::2] = l[1::2]; del l[:5000]
s = set(l); s |= {1, 2, 3}
q = collections.deque(l); q.rotate(3); od = collections.OrderedDict(d); od.popitem()
b = io.BytesIO(); b.write(b"x" * 100000); b.getvalue(); json.dumps(d)
a = array.array("i", range(1000)); a.extend(a)
class C: pass
objs = [C() for _ in range(1000)]
refs = [weakref.ref(o) for o in objs]
del objs; gc.collect()
lib.ftfuzz_cov_dump(os.fsencode(sys.argv[1]))
`;

/** Witness edges a single-threaded program reaches on this build (they say nothing of threads meeting here). */
async function reachedAlone(how: Awaited<ReturnType<typeof invocation>>, map: CoverageMap, tmp: string): Promise<CoverageMapFile['aloneEdges']> {
  const out = path.join(tmp, 'alone.cov');
  await execFileAsync(how.command, [...how.prefix, '-I', '-c', ALONE_SCRIPT, out], { env: { ...process.env, ...how.env, PYTHON_GIL: '0' }, timeout: 300_000 });
  const dump = parseEdgeDump(await fs.readFile(out));
  const alone: CoverageMapFile['aloneEdges'] = [];
  const witness = map.witnessEdges(true);
  for (const o of dump) {
    const edges = [...(witness.get(o.object)?.keys() ?? [])].filter((e) => hasEdge(o, e));
    if (edges.length) alone.push({ object: o.object, edges });
  }
  return alone;
}

/** Read and parse a run's dump; null when the run wrote none (it crashed, or was killed, before the end). */
export async function readEdgeDump(file: string): Promise<ObjectEdges[] | null> {
  const buf = await fs.readFile(file).catch(() => null);
  if (buf === null || buf.length === 0) return null;
  try {
    return parseEdgeDump(buf);
  } catch {
    return null;
  } finally {
    await fs.rm(file, { force: true });
  }
}
