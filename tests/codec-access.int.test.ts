/**
 * Who may decode through /codec: ops and admins with a token; CORS only for configured origins;
 * token-less only in the embedded start's loopback default, over a real loopback socket, from
 * an allowed Origin. Served on a real socket where the peer address matters.
 */
import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { createApp } from '../api/app';
import { mintToken } from '../api/auth';
import { createDb, type Db } from '../db';
import type { Config } from '../platform/config';
import { createLogger } from '../platform/logger';
import { connectClient, payloadCodec } from '../platform/temporal';
import type { Client } from '@temporalio/client';
import { jsonRequest, testConfig } from './helpers';

const UI_ORIGIN = 'http://127.0.0.1:18233';
const OTHER_ORIGIN = 'http://evil.example';
let db: Db;
let client: Client;
const servers: ServerType[] = [];

beforeAll(async () => {
  db = createDb(process.env.DATABASE_URL!, 2);
  client = await connectClient(testConfig());
});
afterAll(async () => {
  for (const s of servers) s.close();
  await client.connection.close();
  await db.destroy();
});

/** The API app on a real loopback socket, with its base URL. */
async function served(config: Config) {
  const app = createApp({ config, db, temporal: client, logger: createLogger('test', 'silent') });
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  servers.push(server);
  return { app, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** One encrypted payload, as the Temporal UI would send it. */
async function encryptedBody(config: Config, value: unknown) {
  const [p] = await payloadCodec(config).encode([
    { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify(value)) },
  ]);
  const b64 = (v: Uint8Array) => Buffer.from(v).toString('base64');
  return { payloads: [{ metadata: Object.fromEntries(Object.entries(p!.metadata!).map(([k, v]) => [k, b64(v!)])), data: b64(p!.data!) }] };
}
const decodedValue = async (res: Response) =>
  JSON.parse(Buffer.from(((await res.json()) as { payloads: Array<{ data: string }> }).payloads[0]!.data, 'base64').toString());
const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

describe('the codec endpoint the Temporal UI decodes through', () => {
  test('decodes for ops and admins with a token, refuses patients and doctors, and refuses token-less callers by default', async () => {
    const config = testConfig({ CORS_ORIGINS: UI_ORIGIN });
    const { app, url } = await served(config);
    const body = await encryptedBody(config, { slotId: 'slot-for-ops' });
    for (const role of ['ops', 'admin'] as const) {
      const res = await app.request(
        '/codec/decode',
        jsonRequest('POST', await mintToken(config.AUTH_SECRET, { id: `t-${role}`, role }), body),
      );
      expect([role, res.status]).toEqual([role, 200]);
      expect(await decodedValue(res)).toEqual({ slotId: 'slot-for-ops' });
    }
    for (const role of ['patient', 'doctor', 'registrar'] as const) {
      const res = await app.request(
        '/codec/decode',
        jsonRequest('POST', await mintToken(config.AUTH_SECRET, { id: `t-${role}`, role }), body),
      );
      expect([role, res.status]).toEqual([role, 403]);
    }
    // The flag is off: even from loopback with the UI's origin, no token means no decoding.
    const anonymous = await post(`${url}/codec/decode`, body, { origin: UI_ORIGIN });
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { error: { code: string } }).error.code).toBe('unauthenticated');
  });

  test('with the loopback default on, decodes token-less only over loopback from an allowed Origin', async () => {
    const config = testConfig({ CORS_ORIGINS: UI_ORIGIN, CODEC_LOOPBACK_OPEN: 'true', API_HOST: '127.0.0.1' });
    const { app, url } = await served(config);
    const body = await encryptedBody(config, { slotId: 'slot-on-loopback' });

    const fromUi = await post(`${url}/codec/decode`, body, { origin: UI_ORIGIN });
    expect(fromUi.status).toBe(200);
    expect(fromUi.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    expect(await decodedValue(fromUi)).toEqual({ slotId: 'slot-on-loopback' });

    const fromOther = await post(`${url}/codec/decode`, body, { origin: OTHER_ORIGIN });
    expect(fromOther.status).toBe(401);
    expect(fromOther.headers.get('access-control-allow-origin')).toBeNull();
    expect(fromOther.headers.get('access-control-allow-credentials')).toBeNull();
    expect((await post(`${url}/codec/decode`, body)).status).toBe(401); // no Origin at all
    // Encoding never goes token-less.
    expect((await post(`${url}/codec/encode`, { payloads: [] }, { origin: UI_ORIGIN })).status).toBe(401);
    // No socket, no known peer (as behind anything that is not a direct loopback connection): refused.
    const inProcess = await app.request('/codec/decode', {
      ...jsonRequest('POST', undefined, body),
      headers: { 'content-type': 'application/json', origin: UI_ORIGIN },
    });
    expect(inProcess.status).toBe(401);
    // A token that is sent is always checked, even where token-less would pass.
    const wrongRole = await post(`${url}/codec/decode`, body, {
      origin: UI_ORIGIN,
      authorization: `Bearer ${await mintToken(config.AUTH_SECRET, { id: 'p', role: 'patient' })}`,
    });
    expect(wrongRole.status).toBe(403);
  });

  test("answers the browser's preflight with CORS headers for configured origins only", async () => {
    const config = testConfig({ CORS_ORIGINS: `${UI_ORIGIN},http://localhost:18233` });
    const { url } = await served(config);
    const preflight = (origin: string) =>
      fetch(`${url}/codec/decode`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,x-namespace,authorization',
        },
      });
    for (const origin of [UI_ORIGIN, 'http://localhost:18233']) {
      const ok = await preflight(origin);
      expect(ok.headers.get('access-control-allow-origin')).toBe(origin);
      expect(ok.headers.get('access-control-allow-headers')).toContain('x-namespace');
    }
    const other = await preflight(OTHER_ORIGIN);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    expect(other.headers.get('access-control-allow-credentials')).toBeNull();
  });
});
