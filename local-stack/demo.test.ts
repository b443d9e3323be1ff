import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { verify } from 'hono/jwt';
import { demoTokensFile, parseStartArgs, removeDemoTokens, wantsDemo, writeDemoTokens } from './demo';

const SECRET = 'a-test-secret-of-at-least-32-characters!';

describe('npm start demo', () => {
  test('seeds the demo city and prints demo tokens only for the embedded database or with --demo', () => {
    expect(wantsDemo({ externalDatabase: false, demoFlag: false })).toBe(true);
    expect(wantsDemo({ externalDatabase: true, demoFlag: false })).toBe(false);
    expect(wantsDemo({ externalDatabase: true, demoFlag: true })).toBe(true);
    expect(wantsDemo({ externalDatabase: false, demoFlag: true })).toBe(true);
  });

  test('writes the demo tokens readable by the owner only, also over an older world-readable file', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'demo-tokens-'));
    writeFileSync(demoTokensFile(dir), '{}', { mode: 0o644 });
    const tokens = await writeDemoTokens(dir, SECRET);
    expect(statSync(demoTokensFile(dir)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(demoTokensFile(dir), 'utf8'))).toEqual(tokens);
    expect(Object.keys(tokens).sort()).toEqual(['admin', 'doctor', 'lab', 'ops', 'patient', 'registrar']);
    expect(await verify(tokens.admin!, SECRET, 'HS256')).toMatchObject({ sub: 'demo-admin', role: 'admin', exp: expect.any(Number) });

    const fresh = mkdtempSync(path.join(os.tmpdir(), 'demo-tokens-'));
    await writeDemoTokens(fresh, SECRET);
    expect(statSync(demoTokensFile(fresh)).mode & 0o777).toBe(0o600);
  });

  test('a run without the demo removes tokens an earlier demo run left', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'demo-tokens-'));
    await writeDemoTokens(dir, SECRET);
    removeDemoTokens(dir);
    expect(() => statSync(demoTokensFile(dir))).toThrow();
    removeDemoTokens(dir);
  });
});

describe('npm start arguments', () => {
  test('take --demo and nothing else', () => {
    expect(parseStartArgs([])).toEqual({ demo: false });
    expect(parseStartArgs(['--demo'])).toEqual({ demo: true });
    expect(() => parseStartArgs(['--demos'])).toThrow();
    expect(() => parseStartArgs(['demo'])).toThrow();
  });
});
