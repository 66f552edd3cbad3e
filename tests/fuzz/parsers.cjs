// jsfuzz targets (CommonJS, as jsfuzz requires): the parsers that read what a dying process printed and
// the files a campaign left behind. Each must take any bytes without crashing ftfuzz: malformed input is
// a clear error naming the file (InputError-style messages starting with the file name), never a throw
// of anything else. They load the CommonJS build of the parsers (tests/fuzz/buildCjs.ts), which jsfuzz's coverage hook can instrument.
'use strict';
const path = require('node:path');
const dist = path.join(__dirname, '..', '..', 'build', 'fuzz');
const faulthandler = require(path.join(dist, 'oracles', 'faulthandler.js'));
const native = require(path.join(dist, 'runtime', 'nativeStacks.js'));
const tracebacks = require(path.join(dist, 'runtime', 'tracebacks.js'));
const protocol = require(path.join(dist, 'runtime', 'protocol.js'));
const store = require(path.join(dist, 'store', 'crashStore.js'));
const mutators = require(path.join(dist, 'generators', 'mutators.js'));
const race = require(path.join(dist, 'oracles', 'raceOracle.js'));
const report = require(path.join(dist, 'report', 'report.js'));
const triage = require(path.join(dist, 'triage', 'triage.js'));
const coverage = require(path.join(dist, 'runtime', 'nativeCoverage.js'));

const FILE = '/fuzz/input';

/** An error a user may see: it names the file. Anything else escaping a parser is a bug. */
function expectNamed(fn) {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith(FILE)) throw error;
  }
}

function fuzz(buf) {
  const text = buf.toString('utf8');
  const report = faulthandler.parseFatalReport(text);
  if (!Array.isArray(report.threads)) throw new Error('parseFatalReport: no threads array');
  faulthandler.normalizeMessage(text);
  const gdb = native.parseGdbOutput(text, 'core');
  if (!Array.isArray(gdb.samples)) throw new Error('parseGdbOutput: no samples array');
  native.parseGdbOutput(`FTFUZZ-GDB ${text}\nFTFUZZ-GDB-RAW-BEGIN\n${text}`, 'attach');
  tracebacks.exceptionsFromStderr(text);
  for (const r of race.parseTsanReports(text)) {
    if (!Array.isArray(r.stacks)) throw new Error('parseTsanReports: no stacks array');
    race.raceSignature(r);
  }
  const fields = protocol.emptyRunFields();
  for (const line of text.split('\n')) protocol.applyLine(fields, line);
  let meta = null;
  expectNamed(() => (meta = store.parseMeta(text, FILE)));
  if (meta) usable(meta);
  expectNamed(() => mutators.readScenario(text, FILE));
  expectNamed(() => mutators.readScenario(`# scenario: ${text}\n`, FILE));
  // A run's coverage dump and a build's layout (native/ftfuzz_cov.c): binary, read after any run, even one
  // that died writing it; only a CoverageFormatError may come out (readEdgeDump drops such a dump).
  for (const input of [buf, Buffer.concat([Buffer.from('FTCOV1\n'), buf]), Buffer.concat([Buffer.from('FTCOVL1\n'), buf])]) {
    for (const parse of [coverage.parseEdgeDump, coverage.parseLayout]) {
      try {
        const objects = parse(input);
        if (!Array.isArray(objects)) throw new Error('coverage parser: no array');
      } catch (error) {
        if (!(error instanceof coverage.CoverageFormatError)) throw error;
      }
    }
  }
}

/** Tags of the page itself: a meta the parser accepted must not add one (its text is escaped wherever it is printed). */
const TAG = /<(script|img|iframe|svg|object)\b/gi;
const tags = (html) => (html.match(TAG) || []).length;
let pageTags = null;

/** A meta parseMeta accepted is one triage and the report can use: they print it, escaped, without a throw. */
function usable(meta) {
  const bucket = `${meta.kind}-000000000000`;
  triage.formatTriageRow(bucket, meta);
  const data = { title: 'fuzz', generatedAt: '2026-01-01T00:00:00Z', source: FILE, buckets: [{ bucket, meta }], timelines: [], errors: [] };
  const html = report.renderReport(data, '/fuzz/report.html');
  if (pageTags === null) pageTags = tags(report.renderReport({ ...data, buckets: [] }, '/fuzz/report.html'));
  if (tags(html) !== pageTags) throw new Error(`renderReport: a meta field reached the page unescaped (${tags(html)} tags, the page alone has ${pageTags})`);
}

module.exports = { fuzz };
