// `npm run bench`: speed and memory figures, measured in one run and reported as rates and ratios
// (never asserted in tests: these machines are shared and noisy).
import { generateProgram } from '../generators/program.js';
import { mutateProgram } from '../generators/mutators.js';
import { Rng } from '../generators/rng.js';

interface Row {
  name: string;
  value: string;
  note?: string;
}

function timeIt(n: number, fn: (i: number) => void): number {
  const start = performance.now();
  for (let i = 0; i < n; i++) fn(i);
  return (performance.now() - start) / 1000;
}

function generatorSection(): Row[] {
  // Warm-up so JIT compilation is not billed to the first programs.
  for (let i = 0; i < 50; i++) generateProgram(`warm-${i}`);
  const n = 2000;
  let bytes = 0;
  const genSeconds = timeIt(n, (i) => {
    bytes += generateProgram(i).source.length;
  });
  const rng = new Rng('bench-mutate');
  const parents = Array.from({ length: 50 }, (_, i) => generateProgram(`p${i}`).meta);
  const mutSeconds = timeIt(n, (i) => {
    const p = parents[i % parents.length];
    if (p) mutateProgram(rng, { scenario: p.scenario, options: p.options, seed: p.seed }, 2);
  });
  return [
    { name: 'generate: programs/s', value: (n / genSeconds).toFixed(0), note: `${n} programs, mean ${(bytes / n / 1024).toFixed(1)} KiB of source` },
    { name: 'mutate (2 mutations + render): programs/s', value: (n / mutSeconds).toFixed(0) },
  ];
}

function main(): void {
  const sections: [string, () => Row[]][] = [['generators', generatorSection]];
  const only = process.argv[2];
  for (const [name, run] of sections) {
    if (only && only !== name) continue;
    console.log(`== ${name}`);
    for (const row of run()) console.log(`  ${row.name.padEnd(44)} ${row.value.padStart(10)}${row.note ? `   (${row.note})` : ''}`);
  }
}

main();
