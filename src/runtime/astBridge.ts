// The bridge to the target interpreter's own `ast` module: parse sources there and read the dumped trees
// back into our AST (python/ftfuzz_ast.py). One interpreter process serves a whole batch of sources.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { InputError } from '../errors.js';
import { packageRoot } from './paths.js';
import type { Target } from '../types.js';
import { SUBSET_NODE_TYPES, type Module } from '../generators/ast.js';

const BRIDGE = path.join(packageRoot, 'python', 'ftfuzz_ast.py');

export type ParseOutcome = { tree: unknown } | { error: string };

/** Parse each source with the interpreter's `ast.parse`; one result per source, in order. */
export function parseWithInterpreter(target: Pick<Target, 'path'>, sources: string[]): Promise<ParseOutcome[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(target.path, ['-I', BRIDGE], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`ast bridge on ${target.path} exited ${code}: ${err.trim().split('\n').pop() ?? ''}`));
        return;
      }
      try {
        resolve(JSON.parse(Buffer.concat(out).toString('utf8')) as ParseOutcome[]);
      } catch (error) {
        reject(new Error(`ast bridge on ${target.path} printed unreadable JSON`, { cause: error }));
      }
    });
    child.stdin.end(JSON.stringify(sources));
  });
}

const isEmpty = (v: unknown) => v === null || v === undefined || (Array.isArray(v) && v.length === 0);

/**
 * Structural equality of our tree and the interpreter's. A field that exists on one side only (fields
 * added in later Python versions, like `type_params` in 3.12) must be empty on the other.
 * Returns null when equal, else the path of the first difference.
 */
export function firstDifference(ours: unknown, theirs: unknown, at = '$'): string | null {
  if (Array.isArray(ours) || Array.isArray(theirs)) {
    if (!Array.isArray(ours) || !Array.isArray(theirs)) return `${at}: ${JSON.stringify(ours)?.slice(0, 80)} vs ${JSON.stringify(theirs)?.slice(0, 80)}`;
    if (ours.length !== theirs.length) return `${at}: length ${ours.length} vs ${theirs.length}`;
    for (let i = 0; i < ours.length; i++) {
      const d = firstDifference(ours[i], theirs[i], `${at}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (ours && theirs && typeof ours === 'object' && typeof theirs === 'object') {
    const a = ours as Record<string, unknown>;
    const b = theirs as Record<string, unknown>;
    const where = `${at}${typeof a._type === 'string' ? `<${a._type}>` : ''}`;
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (!(key in a) && isEmpty(b[key])) continue;
      if (!(key in b) && isEmpty(a[key])) continue;
      const d = firstDifference(a[key], b[key], `${where}.${key}`);
      if (d) return d;
    }
    return null;
  }
  return ours === theirs ? null : `${at}: ${JSON.stringify(ours)} vs ${JSON.stringify(theirs)}`;
}

/** Check that a dumped tree only uses the subset, and return it as our Module type. */
export function asSubsetModule(tree: unknown, file: string): Module {
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== 'object') return;
    const rec = node as Record<string, unknown>;
    if (typeof rec._type === 'string') {
      if (!SUBSET_NODE_TYPES.has(rec._type)) {
        throw new InputError(file, `uses ${rec._type}, which ftfuzz's Python subset does not model; it can still be run, but not mutated`);
      }
      for (const [k, v] of Object.entries(rec)) if (k !== '_type') visit(v);
    } else if ('$unsupported' in rec) {
      throw new InputError(file, `has a ${String(rec.$unsupported)} constant, which the subset does not model`);
    }
  };
  visit(tree);
  if (!tree || typeof tree !== 'object' || (tree as { _type?: unknown })._type !== 'Module') {
    throw new InputError(file, 'did not parse to a module');
  }
  return tree as Module;
}

/** Read a corpus file written by hand or by another tool into our AST, through the target's `ast`. */
export async function readProgramAst(target: Pick<Target, 'path'>, file: string, source: string): Promise<Module> {
  const [outcome] = await parseWithInterpreter(target, [source]);
  if (!outcome) throw new InputError(file, 'the ast bridge returned nothing');
  if ('error' in outcome) throw new InputError(file, `is not valid Python: ${outcome.error}`);
  return asSubsetModule(outcome.tree, file);
}
