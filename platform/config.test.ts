import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfig } from './config';

const dataDir = () => mkdtempSync(path.join(os.tmpdir(), 'config-test-'));

describe('configuration', () => {
  test('fails fast and names the variable when DATABASE_URL is not a postgres URL', () => {
    expect(() => parseConfig({ DATA_DIR: dataDir(), DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL/);
  });

  test('refuses to start in production without its own secrets', () => {
    expect(() => parseConfig({ NODE_ENV: 'production', DATA_DIR: dataDir() })).toThrow(/AUTH_SECRET and PAYLOAD_KEY/);
  });

  test('rejects a payload key that is not 32 bytes', () => {
    expect(() => parseConfig({ DATA_DIR: dataDir(), AUTH_SECRET: 'x'.repeat(32), PAYLOAD_KEY: 'c2hvcnQ=' })).toThrow(/32 bytes/);
  });

  test('keeps generated local secrets between runs so old tokens and payloads stay readable', () => {
    const dir = dataDir();
    const first = parseConfig({ DATA_DIR: dir });
    const second = parseConfig({ DATA_DIR: dir });
    expect(second.AUTH_SECRET).toBe(first.AUTH_SECRET);
    expect(second.PAYLOAD_KEY).toBe(first.PAYLOAD_KEY);
    expect(Object.isFrozen(first)).toBe(true);
  });
});

describe('the CDS digest secret', () => {
  test('is generated once into the local secrets beside the token secret and kept between runs', () => {
    const dir = dataDir();
    const first = parseConfig({ DATA_DIR: dir });
    expect(first.CDS_DIGEST_SECRET).toMatch(/^.{32,}$/);
    expect(first.CDS_DIGEST_SECRET).not.toBe(first.AUTH_SECRET);
    expect(parseConfig({ DATA_DIR: dir }).CDS_DIGEST_SECRET).toBe(first.CDS_DIGEST_SECRET);
    expect(statSync(path.join(dir, 'secrets.json')).mode & 0o777).toBe(0o600);
  });

  test('is added to a secrets file written before it existed, keeping the other secrets', () => {
    const dir = dataDir();
    const old = { AUTH_SECRET: 'o'.repeat(43), PAYLOAD_KEY: Buffer.alloc(32, 7).toString('base64') };
    writeFileSync(path.join(dir, 'secrets.json'), JSON.stringify(old), { mode: 0o600 });
    const config = parseConfig({ DATA_DIR: dir });
    expect(config).toMatchObject(old);
    expect(config.CDS_DIGEST_SECRET).toMatch(/^.{32,}$/);
    expect(JSON.parse(readFileSync(path.join(dir, 'secrets.json'), 'utf8'))).toEqual({
      ...old,
      CDS_DIGEST_SECRET: config.CDS_DIGEST_SECRET,
      CDS_INFERENCE_SECRET: config.CDS_INFERENCE_SECRET,
    });
  });

  test('is required in production, like the token secret', () => {
    expect(() =>
      parseConfig({
        NODE_ENV: 'production',
        DATA_DIR: dataDir(),
        AUTH_SECRET: 'x'.repeat(32),
        PAYLOAD_KEY: Buffer.alloc(32).toString('base64'),
      }),
    ).toThrow(/CDS_DIGEST_SECRET/);
  });

  test("the scoring endpoint's secret is its own, and required in production only where the endpoint is used", () => {
    const local = parseConfig({ DATA_DIR: dataDir() });
    expect(local.CDS_INFERENCE_SECRET).toMatch(/^.{32,}$/);
    expect(local.CDS_INFERENCE_SECRET).not.toBe(local.CDS_DIGEST_SECRET);
    expect(local.CDS_INFERENCE_PORT).toBe(0);
    const prod = {
      NODE_ENV: 'production',
      OIDC_ISSUER: 'https://id.city.example',
      OIDC_AUDIENCE: 'urn:engine',
      DATA_DIR: dataDir(),
      AUTH_SECRET: 'x'.repeat(32),
      CDS_DIGEST_SECRET: 'd'.repeat(32),
      PAYLOAD_KEY: Buffer.alloc(32).toString('base64'),
    };
    expect(parseConfig(prod).CDS_INFERENCE_SECRET).toBe('');
    expect(() => parseConfig({ ...prod, CDS_INFERENCE_PORT: '7301' })).toThrow(/CDS_INFERENCE_SECRET/);
    expect(() => parseConfig({ ...prod, CDS_INFERENCE_URL: 'http://worker-cds:7301' })).toThrow(/CDS_INFERENCE_SECRET/);
  });

  test('CORS origins: none by default, a comma-separated list of scheme://host[:port] otherwise', () => {
    expect(parseConfig({ DATA_DIR: dataDir() }).CORS_ORIGINS).toEqual([]);
    expect(parseConfig({ DATA_DIR: dataDir(), CORS_ORIGINS: 'https://ops.example, http://localhost:8233' }).CORS_ORIGINS).toEqual([
      'https://ops.example',
      'http://localhost:8233',
    ]);
    expect(() => parseConfig({ DATA_DIR: dataDir(), CORS_ORIGINS: '*' })).toThrow(/CORS_ORIGINS/);
  });
});

describe("the codec's loopback default", () => {
  const base = () => ({
    DATA_DIR: dataDir(),
    AUTH_SECRET: 'x'.repeat(32),
    CDS_DIGEST_SECRET: 'd'.repeat(32),
    PAYLOAD_KEY: Buffer.alloc(32).toString('base64'),
  });
  test('is off unless set, and reads CORS_ORIGINS as a list', () => {
    const config = parseConfig({ ...base(), CORS_ORIGINS: 'http://127.0.0.1:8233, http://localhost:8233/' });
    expect(config.CODEC_LOOPBACK_OPEN).toBe(false);
    expect(config.CORS_ORIGINS).toEqual(['http://127.0.0.1:8233', 'http://localhost:8233']);
  });

  test('is refused for an API listening beyond loopback, and in production', () => {
    expect(() => parseConfig({ ...base(), CODEC_LOOPBACK_OPEN: 'true', API_HOST: '0.0.0.0' })).toThrow(/CODEC_LOOPBACK_OPEN/);
    expect(() => parseConfig({ ...base(), NODE_ENV: 'production', CODEC_LOOPBACK_OPEN: 'true' })).toThrow(/CODEC_LOOPBACK_OPEN/);
    expect(parseConfig({ ...base(), CODEC_LOOPBACK_OPEN: 'true', API_HOST: '127.0.0.1' }).CODEC_LOOPBACK_OPEN).toBe(true);
  });
});
