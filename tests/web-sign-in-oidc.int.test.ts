/**
 * Pages signed in through a real OpenID provider (the demo one, oidc-provider in its own process)
 * in Chromium: a doctor and a patient sign in with the authorization code flow and PKCE, stay signed
 * in across a key rotation (their sessions refresh with tokens signed by the new key), and sign out
 * at the provider, after which the old session cookie is dead on the server.
 */
import { createHash } from 'node:crypto';
import type { BrowserContext, Page } from 'playwright-core';
import { demoId } from '../db/seed';
import { sealToken } from '../web/oidc-token-seal';
import { freePort } from '../local-stack/stack';
import { API_AUDIENCE, newKey, startIdpProcess, type IdpProcess } from './oidc-idp';
import { startWebHarness, type WebHarness } from './web/harness';

jest.setTimeout(180_000);

const CLIENT_ID = 'engine-web';
const CLIENT_SECRET = 'a-demo-web-client-secret-of-some-length';
let harness: WebHarness;
let idp: IdpProcess;
let key1: object;
let key2: object;

beforeAll(async () => {
  const idpPort = await freePort();
  harness = await startWebHarness({
    WEB_DEMO_SIGN_IN: 'off',
    OIDC_ISSUER: `http://127.0.0.1:${idpPort}`,
    OIDC_AUDIENCE: API_AUDIENCE,
    OIDC_CLIENT_ID: CLIENT_ID,
    OIDC_CLIENT_SECRET: CLIENT_SECRET,
    OIDC_SCOPES: 'openid offline_access api',
    OIDC_JWKS_COOLDOWN_SECONDS: '0',
  });
  [key1, key2] = [await newKey(), await newKey()];
  idp = await startIdpProcess({
    port: idpPort,
    keys: [key1],
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: [`${harness.baseUrl}/auth/callback`],
        post_logout_redirect_uris: [`${harness.baseUrl}/sign-in`],
      },
    ],
  });
});

afterAll(async () => {
  await idp?.stop();
  await harness?.stop();
});

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** Signs in through the provider's page as `user`; returns the session cookie's value. */
async function signInThroughProvider(context: BrowserContext, page: Page, user: string): Promise<string> {
  await page.goto('/sign-in');
  await page.click('[data-sign-in="oidc"]');
  await page
    .waitForURL((u) => u.href.startsWith(idp.issuer), { timeout: 15_000 })
    .catch(async (err: Error) => {
      throw new Error(`${err.message}; at ${page.url()}: ${(await page.content()).slice(0, 2000)}`);
    });
  await page.click(`button[data-user="${user}"]`);
  await page.waitForURL(`${harness.baseUrl}/`);
  const sid = (await context.cookies()).find((c) => c.name === 'sid');
  expect(sid?.httpOnly).toBe(true);
  return sid!.value;
}

const sessionRow = (sid: string) =>
  harness.engine.db.selectFrom('web_sessions').selectAll().where('id_hash', '=', sha256(sid)).executeTakeFirst();
/** Makes the session's refresh due now, as when its access token has run out. */
const refreshDue = (sid: string) =>
  harness.engine.db
    .updateTable('web_sessions')
    .set({ oidc_refresh_at: new Date(Date.now() - 1000) })
    .where('id_hash', '=', sha256(sid))
    .execute();

describe("signing in through the city's identity provider", () => {
  test('a doctor signs in at the provider, stays signed in while its keys rotate, and signs out for good', async () => {
    const context = await harness.newContext('tablet');
    const page = await context.newPage();
    const sid = await signInThroughProvider(context, page, 'demo-doctor');
    expect(await page.innerText('main')).toContain('demo-doctor');
    const row = await sessionRow(sid);
    expect(row).toMatchObject({
      signed_in_by: 'oidc',
      caller: expect.objectContaining({ role: 'doctor', practitionerId: demoId('practitioner:PC-01:0') }),
    });
    expect(row!.oidc_refresh_token).toBeTruthy();

    // The provider rotates its signing key; the session's next refresh brings a token signed by the new key.
    await idp.rotate([key2, key1]);
    await refreshDue(sid);
    await page.goto('/');
    expect(await page.innerText('main')).toContain('demo-doctor');
    const refreshed = await sessionRow(sid);
    expect(refreshed!.oidc_refresh_at!.getTime()).toBeGreaterThan(Date.now());
    // Then the old key leaves the provider's set: the session refreshes again, still verified.
    await idp.rotate([key2]);
    await refreshDue(sid);
    await page.goto('/doctor');
    expect(page.url()).toBe(`${harness.baseUrl}/doctor`);
    expect((await sessionRow(sid))!.oidc_refresh_at!.getTime()).toBeGreaterThan(Date.now());

    // Sign-out: the server session ends, the browser goes through the provider's end-session endpoint and back.
    await page.goto('/');
    await page.click('form[action="/sign-out"] button');
    await page.waitForURL(`${harness.baseUrl}/sign-in`);
    expect(await sessionRow(sid)).toBeUndefined();
    // The old cookie, replayed, opens nothing: back to sign-in.
    const replay = await fetch(`${harness.baseUrl}/`, { headers: { cookie: `sid=${sid}` }, redirect: 'manual' });
    expect(replay.status).toBe(303);
    expect(replay.headers.get('location')).toBe('/sign-in');
    // The provider's session ended too: signing in again asks who is signing in.
    await page.click('[data-sign-in="oidc"]');
    await page.waitForURL((u) => u.href.startsWith(idp.issuer));
    expect(await page.locator('button[data-user="demo-doctor"]').count()).toBe(1);
    await context.close();
  });

  test('a patient signs in at the provider and sees their own home page; a refused refresh ends the session', async () => {
    const context = await harness.newContext('phone');
    const page = await context.newPage();
    const sid = await signInThroughProvider(context, page, 'demo-patient');
    const patient = await harness.engine.db
      .selectFrom('patients')
      .select('full_name')
      .where('id', '=', demoId('patient:0'))
      .executeTakeFirstOrThrow();
    expect(await page.innerText('main')).toContain(patient.full_name);
    expect((await sessionRow(sid))!.caller).toMatchObject({ role: 'patient', patientId: demoId('patient:0') });

    // The provider no longer honours the refresh token (revoked there): the next page ends the session.
    await harness.engine.db
      .updateTable('web_sessions')
      .set({ oidc_refresh_token: sealToken(harness.engine.config.PAYLOAD_KEY, 'revoked-at-the-provider') })
      .where('id_hash', '=', sha256(sid))
      .execute();
    await refreshDue(sid);
    await page.goto('/patient/appointments');
    expect(page.url()).toBe(`${harness.baseUrl}/sign-in`);
    expect(await sessionRow(sid)).toBeUndefined();
    await context.close();
  });

  test('the demo sign-in does not exist outside the embedded mode', async () => {
    const page = await (await harness.newContext()).newPage();
    await page.goto('/sign-in');
    expect(await page.locator('button[data-user]').count()).toBe(0);
    const post = await fetch(`${harness.baseUrl}/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: harness.baseUrl },
      body: 'user=demo-admin',
      redirect: 'manual',
    });
    expect(post.status).toBe(404);
  });
});
