// The text both kinds of surface program share (program.ts on a type, registries.ts on the interpreter's
// registries): the header, the `_report` helper of every generated program, a thread's guarded steps,
// and the start, join and report that end the program.
import { py as ast } from '../ast.js';
import { reporterDef } from '../prelude.js';
import { printModule } from '../printer.js';
import { headerSafe } from '../../text.js';

/** The surface generators' version: it changes whenever the same seed and surface would give other bytes. */
export const SURFACE_GENERATOR = 'ftfuzz-surface/6';

/** A Python string literal. */
export const q = (s: string): string => JSON.stringify(s);

export function headerLines(title: string, seed: string, members: readonly string[]): string[] {
  // Each stays one comment line whatever the seed or a member's name holds.
  return [
    `# ftfuzz surface program: ${headerSafe(title)}; every exception is caught and counted (crash-only), SystemError escapes its thread.`,
    `# generator: ${SURFACE_GENERATOR}`,
    `# seed: ${headerSafe(seed)}`,
    `# members: ${headerSafe(members.join(', '))}`,
    '',
  ];
}

/** `def _report(record)`, exactly as generated programs define it (prelude.ts). */
export const REPORT_DEF: readonly string[] = printModule(ast.module([reporterDef()])).trimEnd().split('\n');

/**
 * One step of a thread's loop: the action, guarded (SystemError escapes its thread, any other exception is
 * counted), then its member marked as returned in this thread. A member counts as exercised only when two or
 * more threads returned from it on the shared object (closingLines): one thread calling it is no concurrency.
 */
export function guardedStep(tid: number, member: string, action: string): string[] {
  return ['        try:', `            ${action}`, `            _OK.add((${tid}, ${q(member)}))`, '        except SystemError:', '            raise', '        except Exception as exc:', '            _EXC.add(type(exc).__name__)'];
}

/** A thread function: its prologue, the start barrier, then ITERS iterations of `perIteration` and its steps. */
export function threadLines(tid: number, steps: readonly (readonly [string, string])[], o: { prologue?: string[]; perIteration?: string[] } = {}): string[] {
  return [
    `def thread_${tid}():`, ...(o.prologue ?? []), '    try:', '        _BARRIER.wait(10)', '    except threading.BrokenBarrierError:', '        pass', '    for i in range(ITERS):',
    ...(o.perIteration ?? []), ...steps.flatMap(([member, action]) => guardedStep(tid, member, action)), '',
  ];
}

/**
 * Start and join the threads, report the members that two or more threads returned from (coverage.ts reads
 * the record), print a last line. The barrier counts the workers listed: a minimizer that drops a thread from the list (and then its
 * def) leaves a barrier the rest still meet, not one that waits out its timeout on every candidate.
 */
export function closingLines(threads: number, typeKey: string, shape: string, noun: string): string[] {
  return [
    `_WORKERS = [${Array.from({ length: threads }, (_, tid) => `thread_${tid}`).join(', ')}]`,
    '_BARRIER = threading.Barrier(len(_WORKERS))',
    `_threads = [threading.Thread(target=f, name='t%d' % k) for k, f in enumerate(_WORKERS)]`,
    'for _t in _threads:',
    '    _t.start()',
    'for _t in _threads:',
    '    _t.join()',
    `_BY = {}`,
    `for _tid, _member in _OK:`,
    `    _BY.setdefault(_member, set()).add(_tid)`,
    `_report({'type': 'surface', 'type_key': ${q(typeKey)}, 'shape': ${q(shape)}, 'exercised': sorted(m for m, ts in _BY.items() if len(ts) >= 2), 'exceptions': sorted(_EXC)})`,
    `print('ok', len(_BY), '${noun} ran')`,
    '',
  ];
}
