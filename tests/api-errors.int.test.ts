/** The API's error shape for what the framework refuses before a handler runs. */
import { createApp } from '../api/app';
import { mintToken } from '../api/auth';
import { createDb, type Db } from '../db';
import { createLogger } from '../platform/logger';
import { connectClient } from '../platform/temporal';
import { testConfig } from './helpers';

const config = testConfig();
let db: Db;
let app: ReturnType<typeof createApp>;
let closeTemporal: () => Promise<void>;
beforeAll(async () => {
  db = createDb(config.DATABASE_URL!, 2);
  const temporal = await connectClient(config);
  closeTemporal = () => temporal.connection.close();
  app = createApp({ config, db, temporal, logger: createLogger('test', 'silent') });
});
afterAll(async () => {
  await closeTemporal();
  await db.destroy();
});

describe('API errors', () => {
  test('a JSON route sent text/plain answers 415 unsupported_media_type, not a 415 labelled internal', async () => {
    const token = await mintToken(config.AUTH_SECRET, { id: 'test-registrar', role: 'registrar' });
    const res = await app.request('/appointments', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain', 'idempotency-key': 'key-415-text-plain' },
      body: 'slotId=1',
    });
    expect(res.status).toBe(415);
    expect(await res.json()).toEqual({ error: { code: 'unsupported_media_type', message: expect.stringMatching(/application\/json/) } });
  });

  test('malformed JSON still answers 400 malformed_json', async () => {
    const token = await mintToken(config.AUTH_SECRET, { id: 'test-registrar', role: 'registrar' });
    const res = await app.request('/appointments', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': 'key-415-bad-json' },
      body: '{"slotId": ',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('malformed_json');
  });
});
