// Interpreter-wide registries written from threads while others read them: codec search functions, the
// interned-string table, context variables, gc thresholds, ABC registrations, copyreg's dispatch table,
// warning filters, sqlite3's adapters and converters, the switch interval and the int-to-str digit limit.
// A registry program is a surface program of the pseudo-type `interpreter.registries` (one member per
// registry), crash-only like the others, and reports the registries that ran.
import { Rng } from '../rng.js';
import type { SurfaceProgram } from './program.js';
import { closingLines, headerLines, REPORT_DEF, SURFACE_GENERATOR, threadLines } from './scaffold.js';

export const REGISTRY_TYPE = 'interpreter.registries';

interface Registry {
  id: string;
  imports: string[];
  /** Module-level definitions the actions use. */
  setup: string[];
  /** Writes to the registry (a thread's action, over the loop variable `i`). */
  writes: string[];
  /** Reads that consult it. */
  reads: string[];
}

export const REGISTRIES: readonly Registry[] = [
  {
    id: 'codecs', imports: ['codecs'],
    setup: ['def _search(name):', "    return codecs.lookup('utf-8') if name == 'ftfuzz_codec' else None"],
    writes: ['codecs.register(_search)', 'codecs.unregister(_search)'],
    reads: ["codecs.lookup('ftfuzz_codec')", "'ftfuzz'.encode('ftfuzz_codec')", "codecs.lookup('latin-1')"],
  },
  { id: 'intern', imports: ['sys'], setup: [], writes: ["sys.intern('ftfuzz%d' % (i % 64))"], reads: ["sys.intern(''.join(['ftfuzz', str(i % 64)]))"] },
  {
    id: 'contextvars', imports: ['contextvars'],
    setup: ["_VARS = [contextvars.ContextVar('v%d' % k) for k in range(8)]"],
    writes: ['_VARS[i % 8].set(i)', 'contextvars.copy_context().run(_VARS[i % 8].set, i)'],
    reads: ['_VARS[i % 8].get(None)', 'len(contextvars.copy_context())'],
  },
  { id: 'gc', imports: ['gc'], setup: [], writes: ['gc.set_threshold(700 + i % 50, 10, 10)', 'gc.freeze()', 'gc.unfreeze()'], reads: ['gc.get_threshold()', 'gc.get_count()', 'gc.collect(0)'] },
  {
    id: 'abc', imports: ['abc'],
    setup: ['class _A(abc.ABC):', '    pass', "_CLASSES = [type('C%d' % k, (), {}) for k in range(16)]"],
    writes: ['_A.register(_CLASSES[i % 16])', 'abc._reset_caches(_A)' /* the C helper behind ABCMeta._abc_caches_clear */],
    reads: ['isinstance(_CLASSES[i % 16](), _A)', 'issubclass(_CLASSES[(i * 7) % 16], _A)'],
  },
  {
    id: 'copyreg', imports: ['copyreg', 'pickle'],
    setup: ['class _P:', '    pass', 'def _reduce_p(o):', '    return (_P, ())'],
    writes: ['copyreg.pickle(_P, _reduce_p)', 'copyreg.dispatch_table.pop(_P, None)'],
    reads: ['pickle.dumps(_P())', 'copyreg.dispatch_table.get(_P)'],
  },
  {
    id: 'warnings', imports: ['warnings'],
    setup: ["warnings.simplefilter('ignore')"],
    writes: ["warnings.filterwarnings('ignore', message='ftfuzz%d' % (i % 8))", "warnings.filters[:] = warnings.filters[-16:]"],
    reads: ["warnings.warn('ftfuzz%d' % (i % 8), RuntimeWarning)"],
  },
  {
    id: 'sqlite3', imports: ['sqlite3'],
    setup: ['class _Q:', '    pass'],
    writes: ['sqlite3.register_adapter(_Q, str)', "sqlite3.register_converter('ftfuzz%d' % (i % 8), bytes)"],
    reads: ["sqlite3.converters.get('FTFUZZ%d' % (i % 8))", 'sqlite3.adapters.get((_Q, sqlite3.PrepareProtocol))'],
  },
  { id: 'switchinterval', imports: ['sys'], setup: [], writes: ['sys.setswitchinterval(0.001 * (1 + i % 5))'], reads: ['sys.getswitchinterval()'] },
  { id: 'int_max_str_digits', imports: ['sys'], setup: [], writes: ['sys.set_int_max_str_digits(5000 + i % 100)'], reads: ['str(10 ** 300)', "int('9' * 400)"] },
];

/** The (pseudo-type, member) pairs of the registries, for coverage. */
export const REGISTRY_PAIRS: readonly string[] = REGISTRIES.map((r) => `${REGISTRY_TYPE}.${r.id}`);

/** One to three registries; the even threads write them, the odd ones read them. */
export function generateRegistryProgram(seed: string, weight: (pair: string) => number = () => 1): SurfaceProgram {
  const rng = new Rng(`${SURFACE_GENERATOR}:registries:${seed}`);
  const chosen: Registry[] = [];
  const n = rng.int(1, 3);
  while (chosen.length < n) {
    const left = REGISTRIES.filter((r) => !chosen.includes(r));
    chosen.push(rng.weighted(left.map((r) => [r, weight(`${REGISTRY_TYPE}.${r.id}`) + 1e-9] as const)));
  }
  const threads = rng.int(2, 6);
  const iterations = rng.int(100, 400);
  const imports = [...new Set(['json', 'os', 'threading', ...chosen.flatMap((r) => r.imports)])].sort();
  const ids = chosen.map((r) => r.id);
  const lines = [
    ...headerLines(`registry writes on ${ids.join(', ')}`, seed, ids),
    `import ${imports.join(', ')}`,
    `ITERS = ${iterations}`,
    '_EXC = set()',
    '_OK = set()',
    ...chosen.flatMap((r) => r.setup),
    ...REPORT_DEF,
    '',
    '',
    ...Array.from({ length: threads }, (_, tid) => threadLines(tid, chosen.flatMap((r) => rng.shuffle(tid % 2 === 0 ? r.writes : r.reads).map((action) => [r.id, action] as const)))).flat(),
    ...closingLines(threads, REGISTRY_TYPE, 'registry-write', 'registries'),
  ];
  return { source: lines.join('\n'), type: REGISTRY_TYPE, shape: 'registry-write', members: ids };
}
