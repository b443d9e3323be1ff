/**
 * The Temporal UI's codec calls with the access token of the UI's own login at the city's provider
 * (TEMPORAL_CODEC_PASS_ACCESS_TOKEN): an ops user's token from the provider decodes a booking's
 * payloads, as the UI sends them; a doctor's token from the same provider does not.
 */
import { randomUUID } from 'node:crypto';
import { freePort } from '../local-stack/stack';
import { daysFromNow, makeClinic, makePatient, makeSlot } from './fixtures';
import { eventually, jsonRequest, startTestEngine, type TestEngine } from './helpers';
import { API_AUDIENCE, newKey, startIdpProcess, tokensFor, type IdpClient, type IdpProcess } from './oidc-idp';

jest.setTimeout(120_000);

const UI_CLIENT: IdpClient = {
  client_id: 'temporal-ui',
  client_secret: 'the-temporal-ui-client-secret-here',
  redirect_uris: ['http://127.0.0.1:1/auth/sso/callback'],
};
let idp: IdpProcess;
let engine: TestEngine;

beforeAll(async () => {
  const port = await freePort();
  engine = await startTestEngine({ configOverrides: { OIDC_ISSUER: `http://127.0.0.1:${port}`, OIDC_AUDIENCE: API_AUDIENCE } });
  idp = await startIdpProcess({ port, clients: [UI_CLIENT], keys: [await newKey()] });
});

afterAll(async () => {
  await idp?.stop();
  await engine?.stop();
});

/** Every payload in a history, in the UI's JSON form (metadata and data in base64). */
function payloadsIn(value: unknown, found: Array<{ metadata: Record<string, string>; data: string }> = []) {
  if (!value || typeof value !== 'object') return found;
  const o = value as { metadata?: Record<string, Uint8Array>; data?: Uint8Array };
  if (
    o.data instanceof Uint8Array &&
    o.metadata &&
    typeof o.metadata === 'object' &&
    Object.values(o.metadata).every((v) => v instanceof Uint8Array)
  ) {
    found.push({
      metadata: Object.fromEntries(Object.entries(o.metadata).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
      data: Buffer.from(o.data).toString('base64'),
    });
    return found;
  }
  for (const v of Object.values(value)) payloadsIn(v, found);
  return found;
}

describe("the codec endpoint with the Temporal UI's token from the provider", () => {
  test("decodes a booking's payloads for an ops user signed in at the provider, not for a doctor", async () => {
    const clinic = await makeClinic(engine.db);
    const patientId = await makePatient(engine.db);
    const slot = await makeSlot(engine.db, clinic, daysFromNow(3));
    const init = jsonRequest('POST', await engine.token('registrar', { clinicIds: [clinic.clinicId] }), { slotId: slot.id, patientId });
    (init.headers as Record<string, string>)['idempotency-key'] = `codec-oidc-${randomUUID()}`;
    const booked = await engine.app.request('/appointments', init);
    expect(booked.status).toBe(201);
    const { id } = (await booked.json()) as { id: string };

    const history = await eventually(
      async () => {
        const h = await engine.client.workflow
          .getHandle(`booking-${id}`)
          .fetchHistory()
          .catch(() => undefined);
        return h && payloadsIn(h).length ? h : undefined;
      },
      30_000,
      "the booking's history",
    );
    // The process's payloads as stored: encrypted (search attributes are plain opaque ids, not sent here).
    const payloads = payloadsIn(history).filter((p) => Buffer.from(p.metadata.encoding ?? '', 'base64').toString() === 'binary/encrypted');
    expect(payloads.length).toBeGreaterThan(0);
    expect(JSON.stringify(payloads)).not.toContain(slot.id);

    const decode = (token: string) => engine.app.request('/codec/decode', jsonRequest('POST', token, { payloads }));
    const ops = await tokensFor(idp.issuer, UI_CLIENT, 'demo-ops', 'openid profile email api');
    const res = await decode(ops.access_token);
    expect(res.status).toBe(200);
    const decoded = ((await res.json()) as { payloads: Array<{ data: string }> }).payloads.map((p) =>
      Buffer.from(p.data, 'base64').toString(),
    );
    expect(decoded.join('\n')).toContain(slot.id);

    const doctor = await tokensFor(idp.issuer, UI_CLIENT, 'demo-doctor', 'openid profile email api');
    expect((await decode(doctor.access_token)).status).toBe(403);
  });
});
