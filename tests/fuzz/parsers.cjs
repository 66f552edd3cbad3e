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
  expectNamed(() => store.parseMeta(text, FILE));
  expectNamed(() => mutators.readScenario(text, FILE));
  expectNamed(() => mutators.readScenario(`# scenario: ${text}\n`, FILE));
}

module.exports = { fuzz };
