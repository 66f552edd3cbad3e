// Replies of the fork server are validated, not cast: a damaged server's line is refused.
import { describe, expect, it } from 'vitest';
import { parseServerMessage } from '../../src/runtime/forkProtocol.js';

describe('fork-server replies', () => {
  it('reads the three shapes the server sends', () => {
    expect(parseServerMessage('{"ready": true, "pid": 12}')).toEqual({ type: 'ready' });
    expect(parseServerMessage('{"id": 3, "pid": 99, "reused": true}')).toEqual({ type: 'started', id: 3, pid: 99, reused: true });
    expect(parseServerMessage('{"id": 3, "status": -11}')).toEqual({ type: 'ended', id: 3, status: -11, alive: false, stdout: undefined, report: undefined });
    expect(parseServerMessage('{"id": 4, "alive": true, "status": 0, "stdout": "ok\\n", "report": "{}"}')).toEqual({ type: 'ended', id: 4, status: 0, alive: true, stdout: 'ok\n', report: '{}' });
  });

  it('refuses anything else', () => {
    for (const line of ['', 'not json', 'null', '[]', '{"id": "3", "status": 0}', '{"pid": 3}', '{"id": 3}', '{"id": 3, "status": "0"}']) {
      expect(parseServerMessage(line), line).toBeNull();
    }
  });
});
