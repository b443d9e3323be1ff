import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Hono } from 'hono';
import { sign, verify } from 'hono/jwt';
import { PROJECT_ROOT } from '../platform/config';
import { createLogger } from '../platform/logger';
import { mintToken, requireRole, type AuthEnv } from './auth';
import { handleError } from './errors';

const SECRET = 'a-test-secret-of-at-least-32-characters!';
const now = () => Math.floor(Date.now() / 1000);

/** A one-route app behind requireRole, with the API's own error handler. */
function guarded() {
  const app = new Hono<AuthEnv>();
  app.onError(handleError(createLogger('test', 'silent')));
  app.get('/x', requireRole({ AUTH_SECRET: SECRET }, 'admin'), (c) => c.json({ caller: c.get('caller').id }));
  return app;
}
const callWith = (token: string) => guarded().request('/x', { headers: { authorization: `Bearer ${token}` } });

describe('bearer tokens', () => {
  test('a minted admin token opens an admin route', async () => {
    const res = await callWith(await mintToken(SECRET, { id: 'u-1', role: 'admin' }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ caller: 'u-1' });
  });

  test('a token signed without an expiry is refused as unauthenticated, so no token lives forever', async () => {
    const res = await callWith(await sign({ sub: 'u-1', role: 'admin', iat: now() }, SECRET, 'HS256'));
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: { code: 'unauthenticated', message: expect.any(String) } });
  });

  test('a token without a subject is refused as unauthenticated', async () => {
    const res = await callWith(await sign({ role: 'admin', iat: now(), exp: now() + 600 }, SECRET, 'HS256'));
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthenticated');
  });

  test('a token without a role, or with an unknown one, is refused as unauthenticated', async () => {
    for (const claims of [{ sub: 'u-1' }, { sub: 'u-1', role: 'superuser' }]) {
      const res = await callWith(await sign({ ...claims, iat: now(), exp: now() + 600 }, SECRET, 'HS256'));
      expect([claims, res.status]).toEqual([claims, 401]);
    }
  });

  test('an expired token is refused as unauthenticated', async () => {
    const res = await callWith(await sign({ sub: 'u-1', role: 'admin', iat: now() - 7200, exp: now() - 3600 }, SECRET, 'HS256'));
    expect(res.status).toBe(401);
  });

  test('mintToken refuses a lifetime that is not a positive number of seconds', async () => {
    for (const ttl of [NaN, 0, -3600, Infinity]) {
      await expect(mintToken(SECRET, { id: 'u-1', role: 'admin' }, ttl)).rejects.toThrow(/lifetime/);
    }
  });
});

describe('npm run token', () => {
  const env = {
    ...process.env,
    DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'mint-token-')),
    AUTH_SECRET: SECRET,
    NODE_ENV: 'development',
  };
  const mint = (...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', path.join(PROJECT_ROOT, 'api/mint-token.ts'), ...args],
        { env, cwd: PROJECT_ROOT },
        (err, stdout, stderr) => {
          resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
        },
      );
    });

  test('prints a token that expires after the hours asked for', async () => {
    const { code, stdout } = await mint('admin', '--hours', '2');
    expect(code).toBe(0);
    const payload = await verify(stdout.trim(), SECRET, 'HS256');
    expect(payload).toMatchObject({ sub: 'admin-cli', role: 'admin' });
    expect(Number(payload.exp) - now()).toBeGreaterThan(2 * 3600 - 120);
    expect(Number(payload.exp) - now()).toBeLessThanOrEqual(2 * 3600);
  });

  test.each([['x'], ['-1'], ['=-1'], ['0'], ['100000'], ['']])(
    'refuses --hours %s with a clear error, exit code 2 and no token',
    async (hours) => {
      const args = hours.startsWith('=') ? ['admin', `--hours${hours}`] : ['admin', '--hours', hours];
      const { code, stdout, stderr } = await mint(...args);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toMatch(/--hours/);
    },
  );
});
