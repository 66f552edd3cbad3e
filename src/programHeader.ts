// What a generated program's header says it shares between its threads, read from the text alone (no
// generator code): the op-table programs' `# scenario:` line (every object's kind and the ops applied to it)
// and the surface programs' first line (`# ftfuzz surface program: <shape> on <type>; ...`). A heap
// corruption is the doing of these objects, never of the op a victim thread happened to run when the
// allocator tripped over the damage (issue "every word true"), so signatures and families name them.

export interface SharedObject {
  /** The object kind (`bytearray`, an op-table kind) or the surface type (`collections.deque`). */
  kind: string;
  /** The ops applied to it by any thread (op-table programs), or the members called (surface programs). */
  ops: string[];
}

interface ScenarioShape {
  objects?: { v?: unknown; kind?: unknown }[];
  threadOps?: { ops?: { op?: unknown; obj?: unknown }[] }[];
}

/** The shared objects a program's header names; null for a program without such a header (hand-written). */
export function sharedObjects(source: string): SharedObject[] | null {
  const head = source.slice(0, 200_000).split('\n', 64);
  const scenarioLine = head.find((l) => l.startsWith('# scenario: '));
  if (scenarioLine) {
    let scenario: ScenarioShape;
    try {
      scenario = JSON.parse(scenarioLine.slice('# scenario: '.length)) as ScenarioShape;
    } catch {
      return null;
    }
    const byVar = new Map<string, SharedObject>();
    for (const o of scenario.objects ?? []) if (typeof o.v === 'string' && typeof o.kind === 'string') byVar.set(o.v, { kind: o.kind, ops: [] });
    for (const t of scenario.threadOps ?? []) {
      for (const i of t.ops ?? []) if (typeof i.obj === 'string' && typeof i.op === 'string') byVar.get(i.obj)?.ops.push(i.op);
    }
    const out = [...byVar.values()].map((o) => ({ kind: o.kind, ops: [...new Set(o.ops)].sort() }));
    return out.length ? out : null;
  }
  // A bucket's repro.py has its own header lines first: the program's comes after them.
  const surface = head.map((l) => /^# ftfuzz surface program: (.+?) on ([^;]+);/.exec(l)).find((m) => m !== null);
  if (surface) {
    const members = /^# members: (.*)$/m.exec(head.join('\n'))?.[1]?.split(', ').filter(Boolean) ?? [];
    return [{ kind: (surface[2] as string).trim(), ops: members }];
  }
  return null;
}

/** `bytearray+list`: the kinds a heap-corruption signature names (sorted, each once). */
export function heapKinds(objects: readonly SharedObject[]): string {
  return [...new Set(objects.map((o) => o.kind))].sort().join('+');
}
