import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfig } from './config';
import { hs256Allowed } from './oidc-config';

const prod = () => ({
  NODE_ENV: 'production',
  DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'oidc-config-')),
  PAYLOAD_KEY: Buffer.alloc(32).toString('base64'),
  CDS_DIGEST_SECRET: 'd'.repeat(32),
});

describe('sign-in settings', () => {
  test("production trusts the city's issuer and refuses local HS256 tokens unless told otherwise", () => {
    const c = parseConfig({ ...prod(), OIDC_ISSUER: 'https://id.city.example/realms/health', OIDC_AUDIENCE: 'urn:clinical-engine:api' });
    expect(hs256Allowed(c)).toBe(false);
    expect(c.AUTH_SECRET).toMatch(/^.{32,}$/); // not asked for: nothing checks it
    expect(hs256Allowed(parseConfig({ ...prod(), AUTH_SECRET: 'x'.repeat(32), AUTH_ALLOW_HS256: 'true' }))).toBe(true);
    expect(hs256Allowed(parseConfig({ DATA_DIR: prod().DATA_DIR }))).toBe(true);
  });

  test('refuses settings that cannot sign anyone in, or would sign in the wrong way', () => {
    expect(() => parseConfig({ ...prod(), AUTH_SECRET: 'x'.repeat(32) })).toThrow(/OIDC_ISSUER/);
    expect(() => parseConfig({ ...prod(), OIDC_ISSUER: 'http://id.city.example', OIDC_AUDIENCE: 'a' })).toThrow(/https/);
    expect(() => parseConfig({ ...prod(), OIDC_ISSUER: 'https://id.city.example' })).toThrow(/OIDC_AUDIENCE/);
    expect(() => parseConfig({ ...prod(), OIDC_ISSUER: 'https://id.city.example', OIDC_AUDIENCE: 'a', WEB_DEMO_SIGN_IN: 'on' })).toThrow(
      /WEB_DEMO_SIGN_IN/,
    );
    expect(() => parseConfig({ DATA_DIR: prod().DATA_DIR, OIDC_CLIENT_ID: 'web' })).toThrow(/OIDC_ISSUER/);
    expect(() => parseConfig({ DATA_DIR: prod().DATA_DIR, OIDC_CLOCK_SKEW_SECONDS: '3600' })).toThrow(/OIDC_CLOCK_SKEW_SECONDS/);
  });
});
