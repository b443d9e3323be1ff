/**
 * The command-line tools read the same settings as `npm start` (platform/cli-connections.ts) and,
 * when a part is not there, name the address they tried and the setting that moves it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../platform/ports';

const ROOT = path.resolve(__dirname, '..');
let dataDir: string;
beforeAll(() => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'cli-addresses-'));
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function run(file: string, env: Record<string, string | undefined>): Promise<{ code: number | null; output: string }> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, NODE_ENV: 'development' };
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete childEnv[key];
    else childEnv[key] = value;
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

describe('the command-line tools find the engine where npm start put it', () => {
  test('check:invariants without DATABASE_URL looks for the embedded Postgres on EMBEDDED_PG_PORT and names it', async () => {
    const port = await freePort();
    const { code, output } = await run('workers/check-invariants.ts', { DATABASE_URL: undefined, EMBEDDED_PG_PORT: String(port) });
    expect(code).toBe(2);
    expect(output).toContain(`cannot reach Postgres at 127.0.0.1:${port}/clinical (EMBEDDED_PG_PORT`);
    expect(output).not.toContain('clinical:clinical@');
  });

  test('check:invariants with Postgres up but no Temporal names the dev server port it tried', async () => {
    const port = await freePort();
    const { code, output } = await run('workers/check-invariants.ts', { TEMPORAL_ADDRESS: undefined, TEMPORAL_DEV_PORT: String(port) });
    expect(code).toBe(2);
    expect(output).toContain(`cannot reach Temporal at 127.0.0.1:${port} (TEMPORAL_DEV_PORT`);
  });

  test('db:migrate names the DATABASE_URL address it could not reach, without the password', async () => {
    const port = await freePort();
    const { code, output } = await run('db/migrate-cli.ts', { DATABASE_URL: `postgres://someone:secret@127.0.0.1:${port}/elsewhere` });
    expect(code).toBe(1);
    expect(output).toContain(`cannot reach Postgres at 127.0.0.1:${port}/elsewhere (DATABASE_URL)`);
    expect(output).not.toContain('secret');
  });
});
