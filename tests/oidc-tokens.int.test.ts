/**
 * Tokens from the city's identity provider (here the demo one: oidc-provider in its own process):
 * the API accepts its access tokens by JWKS, follows a key rotation, and refuses every token it must
 * refuse with one 401 whose reason is in the log and not in the answer.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { createApp } from '../api/app';
import { mintToken } from '../api/auth';
import { DEMO_CALLERS } from '../db/demo-users';
import { createDb, type Db } from '../db';
import type { Config } from '../platform/config';
import { connectClient } from '../platform/temporal';
import type { Client } from '@temporalio/client';
import { eventually, testConfig } from './helpers';
import { API_AUDIENCE, newKey, startIdpProcess, tokensFor, type IdpClient, type IdpProcess } from './oidc-idp';

jest.setTimeout(120_000);

const CLIENT: IdpClient = {
  client_id: 'engine-web',
  client_secret: 'a-demo-client-secret-of-some-length',
  redirect_uris: ['http://127.0.0.1:1/auth/callback'],
};
let idp: IdpProcess;
let otherIdp: IdpProcess;
let key1: object;
let key2: object;
let db: Db;
let temporal: Client;
const logLines: Array<Record<string, unknown>> = [];

/** The API with the issuer configured; its log lines are kept for the assertions. */
function apiWith(overrides: Record<string, string>) {
  const config: Config = testConfig({
    OIDC_ISSUER: idp.issuer,
    OIDC_AUDIENCE: API_AUDIENCE,
    OIDC_JWKS_COOLDOWN_SECONDS: '0',
    ...overrides,
  });
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) logLines.push(JSON.parse(l));
      done();
    },
  });
  const app = createApp({ config, db, temporal, logger: pino({ level: 'info' }, sink) });
  return { config, me: (token: string) => app.request('/me', { headers: { authorization: `Bearer ${token}` } }) };
}

/** Signs a token with a private JWK (as an attacker or another issuer could, or the provider's key with bad claims). */
async function signed(jwk: object, claims: Record<string, unknown>, header: Record<string, unknown> = {}) {
  const { SignJWT, importJWK } = await import('jose');
  const key = await importJWK(jwk as never, 'RS256');
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: (jwk as { kid: string }).kid, ...header }).sign(key);
}

const now = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  [key1, key2] = [await newKey(), await newKey()];
  [idp, otherIdp] = await Promise.all([
    startIdpProcess({ clients: [CLIENT], keys: [key1] }),
    startIdpProcess({ clients: [CLIENT], keys: [await newKey()] }),
  ]);
  db = createDb(process.env.DATABASE_URL!, 2);
  temporal = await connectClient(testConfig());
});

afterAll(async () => {
  await Promise.all([idp?.stop(), otherIdp?.stop()]);
  await temporal?.connection.close();
  await db?.destroy();
});

describe("tokens from the city's identity provider", () => {
  test("a doctor signed in at the provider reads /me with the role and practitioner id from the token's claims", async () => {
    const api = apiWith({});
    const { access_token } = await tokensFor(idp.issuer, CLIENT, 'demo-doctor');
    const res = await api.me(access_token);
    expect(res.status).toBe(200);
    const me = (await res.json()) as { userId: string; role: string };
    expect(me).toMatchObject({ userId: 'demo-doctor', role: 'doctor' });
  });

  test('claim names are configuration: a city that names the role otherwise is read by that name', async () => {
    const api = apiWith({ OIDC_CLAIM_ROLE: 'engine_role' });
    const { access_token } = await tokensFor(idp.issuer, CLIENT, 'demo-doctor');
    // This provider says `role`, not `engine_role`: no role, so refused.
    expect((await api.me(access_token)).status).toBe(401);
    const own = await signed(key1, {
      sub: 'city-doctor',
      engine_role: ['staff', 'doctor'],
      iss: idp.issuer,
      aud: API_AUDIENCE,
      exp: now() + 300,
    });
    expect((await api.me(own)).status).toBe(200);
  });

  test('the provider rotates its key while users are signed in: new tokens verify at once, old ones until the retired key leaves the cached set', async () => {
    const api = apiWith({ OIDC_JWKS_CACHE_SECONDS: '1' });
    const before = (await tokensFor(idp.issuer, CLIENT, 'demo-patient')).access_token;
    expect((await api.me(before)).status).toBe(200);

    await idp.rotate([key2, key1]);
    const after = (await tokensFor(idp.issuer, CLIENT, 'demo-patient')).access_token;
    expect(JSON.parse(Buffer.from(after.split('.')[0]!, 'base64url').toString()).kid).toBe((key2 as { kid: string }).kid);
    expect((await api.me(after)).status).toBe(200);
    expect((await api.me(before)).status).toBe(200);

    await idp.rotate([key2]);
    await eventually(async () => (await api.me(before)).status === 401, 20_000, "the retired key's token refused");
    expect((await api.me(after)).status).toBe(200);
    expect(logLines.some((l) => l.authRefusal === 'unknown_key')).toBe(true);
  });

  test('refuses each bad token with the same 401; the reason is in the log only', async () => {
    const api = apiWith({ AUTH_ALLOW_HS256: 'false' });
    const { exportSPKI, importJWK } = await import('jose');
    const signingKey = key2; // the provider's current key (after the rotation above)
    const good = { sub: 'demo-ops', role: 'ops', iss: idp.issuer, aud: API_AUDIENCE, iat: now(), exp: now() + 300 };
    const publicJwk = { ...(signingKey as Record<string, unknown>) };
    for (const k of ['d', 'p', 'q', 'dp', 'dq', 'qi']) delete publicJwk[k];
    const publicPem = await exportSPKI((await importJWK(publicJwk as never, 'RS256', { extractable: true })) as never);
    const hmac = async (secret: string, claims: object) => {
      const { SignJWT } = await import('jose');
      return new SignJWT({ ...claims }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));
    };
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

    const cases: Array<[string, string, string]> = [
      ['another issuer (a real one)', (await tokensFor(otherIdp.issuer, CLIENT, 'demo-ops')).access_token, 'unknown_key'],
      ['another issuer (our key, their iss)', await signed(signingKey, { ...good, iss: 'https://id.other-city.example' }), 'wrong_issuer'],
      ['another audience', await signed(signingKey, { ...good, aud: 'urn:another-service' }), 'wrong_audience'],
      ['expired beyond the clock skew', await signed(signingKey, { ...good, iat: now() - 600, exp: now() - 120 }), 'expired'],
      ['alg none', `${b64({ alg: 'none', typ: 'JWT' })}.${b64(good)}.`, 'alg_not_allowed'],
      ["HS256 signed with the provider's public key", await hmac(publicPem, good), 'alg_not_allowed'],
      ['a local HS256 token where production refuses them', await mintToken(api.config.AUTH_SECRET, DEMO_CALLERS[4]!), 'alg_not_allowed'],
      ['no role claim', await signed(signingKey, { ...good, role: undefined }), 'no_subject_or_role'],
    ];
    for (const [kind, token, reason] of cases) {
      const from = logLines.length;
      const res = await api.me(token);
      const body = await res.text();
      expect([kind, res.status]).toEqual([kind, 401]);
      expect([kind, JSON.parse(body)]).toEqual([
        kind,
        { error: { code: 'unauthenticated', message: 'The bearer token is invalid or expired.' } },
      ]);
      const logged = logLines.slice(from).find((l) => l.route === '/me');
      expect([kind, logged?.authRefusal, logged?.status]).toEqual([kind, reason, 401]);
    }
    // Within the bounded skew, a token just past its expiry still passes.
    expect((await api.me(await signed(signingKey, { ...good, exp: now() - 5 }))).status).toBe(200);
  });

  test("the embedded default keeps its local HS256 tokens next to the issuer's; a public-key HS256 token still fails its signature", async () => {
    const api = apiWith({});
    expect((await api.me(await mintToken(api.config.AUTH_SECRET, DEMO_CALLERS[4]!))).status).toBe(200);
    const { SignJWT } = await import('jose');
    const forged = await new SignJWT({ sub: 'x', role: 'admin', exp: now() + 60 })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(JSON.stringify(key2)));
    const from = logLines.length;
    expect((await api.me(forged)).status).toBe(401);
    expect(logLines.slice(from).find((l) => l.route === '/me')?.authRefusal).toBe('bad_signature');
  });
});
