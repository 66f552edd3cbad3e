// The command line as a user meets it: exit codes, one-line errors, JSON output.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { ExitCode } from '../../src/types.js';

const root = path.join(import.meta.dirname, '..', '..');
const program = (name: string) => path.join(root, 'tests', 'fixtures', 'programs', name);

function ftfuzz(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [path.join(root, 'bin', 'ftfuzz.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 170_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('ftfuzz CLI', () => {
  it('lists the built interpreters side by side: default, an exact older release and a debug variant', () => {
    const r = ftfuzz(['python', 'list', '--json']);
    expect(r.code).toBe(0);
    const listed = JSON.parse(r.stdout) as { target: { executable: string; freeThreaded: boolean; debug: boolean; version: string; origin: string } | null }[];
    const byExe = new Map(listed.filter((d) => d.target).map((d) => [d.target?.executable, d.target]));
    const main = byExe.get(inject('ftPython'));
    const old = byExe.get(inject('ftPythonOld'));
    const debug = byExe.get(inject('ftPythonDebug'));
    expect(main).toMatchObject({ freeThreaded: true, debug: false, origin: 'cache' });
    expect(old).toMatchObject({ freeThreaded: true, debug: false, version: process.env.FTFUZZ_TEST_OLD_VERSION ?? '3.13.5' });
    expect(debug).toMatchObject({ freeThreaded: true, debug: true, version: main?.version });
  });

  it('treats a second install as a no-op', () => {
    const version = inject('ftPython').match(/cpython-(\d+\.\d+\.\d+)t-release/)?.[1] ?? '';
    expect(version).not.toBe('');
    const r = ftfuzz(['python', 'install', '--version', version]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/already installed/);
    expect(r.stdout.trim()).toBe(inject('ftPython'));
  });

  it('exits 0 on a clean program and 1 with a findings summary on a crashing one', () => {
    const clean = ftfuzz(['run', program('clean.py'), '--python', inject('ftPython'), '--runs', '1']);
    expect(clean.stdout).toContain('no findings');
    expect(clean.code).toBe(ExitCode.Clean);
    const crash = ftfuzz(['run', program('segfault_thread.py'), '--python', inject('ftPython'), '--runs', '1', '--json']);
    expect(crash.code).toBe(ExitCode.Findings);
    const report = JSON.parse(crash.stdout) as { findings: { kind: string; reproduceCommand: string }[] };
    expect(report.findings.map((f) => f.kind)).toEqual(['crash']);
    expect(report.findings[0]?.reproduceCommand).toMatch(/^PYTHON_GIL=[01] .*python3\.\d+t .*segfault_thread\.py$/);
  });

  it('gives one-line errors with distinct exit codes for bad options, files and interpreters', () => {
    const unknown = ftfuzz(['run', program('clean.py'), '--no-such-option']);
    expect(unknown.code).toBe(ExitCode.Usage);
    expect(unknown.stderr.trim().split('\n').pop()).toMatch(/^ftfuzz: error: Unknown argument/);

    const badMode = ftfuzz(['run', program('clean.py'), '--modes', 'gil-maybe', '--python', inject('ftPython')]);
    expect(badMode.code).toBe(ExitCode.Usage);
    expect(badMode.stderr).toMatch(/--modes gil-maybe: unknown mode "gil-maybe"/);

    // A seed that would end a header's comment line (and start code) is refused before anything runs.
    for (const cmd of [['gen'], ['fuzz', '--runs', '1']]) {
      const injected = ftfuzz([...cmd, '--seed', 'abc\nprint("INJECTED") #']);
      expect(injected.code, injected.stderr).toBe(ExitCode.Usage);
      expect(injected.stderr.trim().split('\n')).toHaveLength(1);
      expect(injected.stderr).toMatch(/^ftfuzz: error: --seed "abc\\nprint.*only printable ASCII on one line/);
      expect(injected.stdout).not.toContain('INJECTED');
    }

    const missing = ftfuzz(['run', '/nonexistent/prog.py', '--python', inject('ftPython')]);
    expect(missing.code).toBe(ExitCode.Input);
    expect(missing.stderr).toMatch(/^ftfuzz: error: \/nonexistent\/prog\.py: cannot be read/);

    const noPython = ftfuzz(['run', program('clean.py'), '--python', '/nonexistent/python3.13t']);
    expect(noPython.code).toBe(ExitCode.Environment);
    expect(noPython.stderr).toMatch(/interpreter \/nonexistent\/python3\.13t could not be probed .*--python PATH/);

    // A campaign whose timeline cannot be written ends at once with the file named (it once ticked
    // "programs 0" forever); a bare --timeline is a usage error, not the current directory.
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'ftfuzz-cli-timeline-'));
    const campaign = ['fuzz', '--runs', '2', '--python', inject('ftPython'), '--crashes', path.join(tmp, 'crashes'), '--corpus', path.join(tmp, 'corpus')];
    const bare = ftfuzz([...campaign, '--timeline']);
    expect(bare.code).toBe(ExitCode.Usage);
    expect(bare.stderr.trim().split('\n').pop()).toMatch(/^ftfuzz: error: --timeline needs a file path/);
    const unwritable = ftfuzz([...campaign, '--timeline', tmp]);
    expect(unwritable.code).toBe(ExitCode.Input);
    expect(unwritable.stderr.trim().split('\n').pop()).toMatch(new RegExp(`^ftfuzz: error: ${tmp}: cannot write the campaign timeline`));

    // A bucket whose meta.json is not ftfuzz's: a malformed input (4), named, not an internal error (70).
    const bucket = path.join(tmp, 'crashes', 'crash-0123456789ab');
    mkdirSync(bucket, { recursive: true });
    writeFileSync(path.join(bucket, 'meta.json'), '{"a": 1}\n');
    writeFileSync(path.join(bucket, 'repro.py'), 'print(1)\n');
    const badMeta = ftfuzz(['minimize', bucket, '--python', inject('ftPython')]);
    expect(badMeta.code).toBe(ExitCode.Input);
    expect(badMeta.stderr.trim().split('\n').pop()).toMatch(/meta\.json: not an ftfuzz bucket \(missing or malformed: signature.*delete the bucket or restore the file$/);
    rmSync(tmp, { recursive: true, force: true });
  });
});
