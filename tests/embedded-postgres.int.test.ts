import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../platform/config';

/**
 * `npm start`'s second run: the embedded Postgres reopens the data folder it made the first time
 * and finds its data. The temp folder is mode 700 like a clone under /root, so as root this also
 * covers the traversal fix, which must not open up the data folder itself (Postgres refuses that).
 */
describe('embedded Postgres across restarts', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'clinical-pg-restart-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps its rows and a private data folder after a stop and a start', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', path.join(PROJECT_ROOT, 'tests/embedded-postgres-restart.ts'), dir],
      { cwd: PROJECT_ROOT },
    ).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }));
    const outcome = JSON.parse(stdout.trim().split('\n').pop() ?? '{}');
    expect(outcome).toEqual({ rows: [{ note: 'first run' }], dataDirMode: expect.stringMatching(/^7[05]0$/) });
  }, 120_000);
});
