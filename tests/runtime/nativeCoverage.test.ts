// The coverage build's files (native/ftfuzz_cov.c's dump and layout) and the edge map read from them.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CoverageFormatError, CoverageMap, parseEdgeDump, parseLayout, treeRelative } from '../../src/runtime/nativeCoverage.js';
import { dumpOf, EXE, layoutOf, mapFile } from '../helpers/coverage.js';

describe('coverage dumps and layouts', () => {
  it('read back what the runtime writes', () => {
    const dump = parseEdgeDump(dumpOf([{ object: EXE, edges: 20, hit: [0, 7, 8, 19] }, { object: '/x/array.so', edges: 3, hit: [2] }]));
    expect(dump.map((o) => [o.object, o.edges, [...o.bits]])).toEqual([[EXE, 20, [0x81, 0x01, 0x08]], ['/x/array.so', 3, [0x04]]]);
    const layout = parseLayout(layoutOf([{ object: EXE, pcs: [[0x1000, true], [0x1010, false], [0x2000, true]] }]));
    expect(layout[0]).toEqual({ object: EXE, offsets: [0x1000n, 0x1010n, 0x2000n], entries: [true, false, true] });
  });

  it('refuse a file ftfuzz did not write, or one cut short, with a CoverageFormatError and nothing else', () => {
    const good = dumpOf([{ object: EXE, edges: 20, hit: [3] }]);
    expect(() => parseEdgeDump(Buffer.from('not a dump'))).toThrow(CoverageFormatError);
    expect(() => parseEdgeDump(good.subarray(0, good.length - 1))).toThrow(/cut short/);
    expect(() => parseLayout(good)).toThrow(/magic/);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.constantFrom('FTCOV1\n', 'FTCOVL1\n', ''), (bytes, magic) => {
        const input = Buffer.concat([Buffer.from(magic), Buffer.from(bytes)]);
        for (const parse of [parseEdgeDump, parseLayout]) {
          try {
            parse(input);
          } catch (error) {
            if (!(error instanceof CoverageFormatError)) throw error;
          }
        }
      }),
    );
  });

  it('names the CPython tree part of a source path', () => {
    expect(treeRelative('/root/.cache/ftfuzz/build/work-1/src/Python-3.13.5/Objects/dictobject.c')).toBe('Objects/dictobject.c');
    expect(treeRelative('./Include/internal/pycore_object.h')).toBe('Include/internal/pycore_object.h');
    expect(treeRelative('/usr/include/stdio.h')).toBe('/usr/include/stdio.h');
  });
});

describe('the edge map', () => {
  it('finds the function of an edge', () => {
    const map = new CoverageMap(mapFile());
    expect(map.total).toBe(26);
    expect([0, 3, 4, 9, 10, 13, 14, 19].map((e) => map.functionOf(EXE, e)?.name)).toEqual(['main', 'main', '_Py_dict_lookup_threadsafe', '_Py_dict_lookup_threadsafe', '_PyCriticalSection_BeginSlow', '_PyCriticalSection_BeginSlow', 'list_append', 'list_append']);
    expect(map.functionOf('/elsewhere.so', 0)).toBeNull();
  });

  it('marks every edge of a witness function and a label block, but those a single thread reaches on this build', () => {
    const all = new CoverageMap(mapFile()).witnessEdges();
    expect([...(all.get(EXE) ?? new Map<number, string>())]).toEqual([[10, 'critical-section-slow'], [11, 'critical-section-slow'], [12, 'critical-section-slow'], [13, 'critical-section-slow'], [8, 'dict-read-failed'], [9, 'dict-read-failed']]);
    const calibrated = new CoverageMap(mapFile([{ object: EXE, edges: [10, 11] }]));
    expect([...(calibrated.witnessEdges().get(EXE)?.keys() ?? [])]).toEqual([12, 13, 8, 9]);
    expect(calibrated.witnessEdges(true).get(EXE)?.size).toBe(6);
    expect(calibrated.witnessRules()).toEqual(['critical-section-slow', 'dict-read-failed']);
  });
});
