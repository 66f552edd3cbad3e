#!/usr/bin/env node
// Thin launcher: the CLI lives in dist/ (built by `npm install` through the prepare script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/run.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('ftfuzz: error: not built yet; run `npm install` (or `npm run build`) in the ftfuzz folder\n');
  process.exit(3);
}
await import(entry.href);
