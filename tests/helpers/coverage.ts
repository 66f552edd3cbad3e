// Coverage files and a small edge map, as a coverage build would write them (runtime/nativeCoverage.ts).
import type { CoverageMapFile } from '../../src/runtime/nativeCoverage.js';

/** A dump as the runtime writes it: per object, its name, edge count and flag bitmap. */
export function dumpOf(objects: { object: string; edges: number; hit: number[] }[]): Buffer {
  const parts: Buffer[] = [Buffer.from('FTCOV1\n')];
  for (const o of objects) {
    const name = Buffer.from(o.object);
    const head = Buffer.alloc(12);
    head.writeUInt32LE(name.length, 0);
    head.writeBigUInt64LE(BigInt(o.edges), 4);
    const bits = Buffer.alloc(Math.ceil(o.edges / 8));
    for (const e of o.hit) bits[e >> 3] = (bits[e >> 3] as number) | (1 << (e & 7));
    parts.push(head.subarray(0, 4), name, head.subarray(4), bits);
  }
  return Buffer.concat(parts);
}

export function layoutOf(objects: { object: string; pcs: [number, boolean][] }[]): Buffer {
  const parts: Buffer[] = [Buffer.from('FTCOVL1\n')];
  for (const o of objects) {
    const name = Buffer.from(o.object);
    const len = Buffer.alloc(4);
    len.writeUInt32LE(name.length);
    const n = Buffer.alloc(8);
    n.writeBigUInt64LE(BigInt(o.pcs.length));
    const table = Buffer.alloc(16 * o.pcs.length);
    o.pcs.forEach(([pc, entry], i) => {
      table.writeBigUInt64LE(BigInt(pc), 16 * i);
      table.writeBigUInt64LE(entry ? 1n : 0n, 16 * i + 8);
    });
    parts.push(len, name, n, table);
  }
  return Buffer.concat(parts);
}

export const EXE = '/opt/py/bin/python3.13t';

/** A small build: main, dict lookup with its read_failed block, the critical-section slow path, an extension. */
export function mapFile(aloneEdges: CoverageMapFile['aloneEdges'] = []): CoverageMapFile {
  return {
    format: 3,
    executable: EXE,
    builtFrom: 'test',
    objects: [
      {
        object: EXE,
        edges: 20,
        functions: [
          { name: 'main', file: 'Programs/python.c' },
          { name: '_Py_dict_lookup_threadsafe', file: 'Objects/dictobject.c' },
          { name: '_PyCriticalSection_BeginSlow', file: 'Python/critical_section.c' },
          { name: 'list_append', file: 'Objects/listobject.c' },
        ],
        starts: [0, 4, 10, 14],
      },
      { object: '/opt/py/lib/python3.13t/lib-dynload/array.so', edges: 6, functions: [{ name: 'array_append', file: 'Modules/arraymodule.c' }], starts: [0] },
    ],
    labels: [{ rule: 'dict-read-failed', object: EXE, edges: [8, 9] }],
    aloneEdges,
  };
}
