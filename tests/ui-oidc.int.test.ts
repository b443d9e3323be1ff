/**
 * The Temporal UI as compose runs it, signed in through the city's provider: the Temporal UI server
 * (Go, built once into the tools cache) with OIDC auth at the demo identity provider and the codec at
 * a real API that trusts that provider. In Chromium an ops user is sent to the provider, signs in and
 * sees a booking's decoded input; a patient signed in the same way gets a 403 from /codec and only
 * ciphertext.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { chromium, type Browser, type Page } from 'playwright-core';
import {
  cachedTemporalUiServer,
  ensureTemporalUiServer,
  goAvailable,
  startTemporalUi,
  type RunningTemporalUi,
} from '../local-stack/temporal-ui-server';
import { freePort } from '../platform/ports';
import { daysFromNow, makeClinic, makePatient, makeSlot } from './fixtures';
import { eventually, jsonRequest, processStarted, startTestEngine, type TestEngine } from './helpers';
import { API_AUDIENCE, newKey, startIdpProcess, type IdpClient, type IdpProcess } from './oidc-idp';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// The first run on a fresh machine builds the UI server (go install): minutes, once.
jest.setTimeout(600_000);

// Without Go and without a built UI server there is nothing to run: say so instead of failing.
const runnable = Boolean(cachedTemporalUiServer()) || goAvailable();
if (!runnable) {
  process.stderr.write(
    'tests/ui-oidc.int.test.ts skipped: Go is not installed and no Temporal UI server is cached (TEMPORAL_UI_SERVER_PATH)\n',
  );
}
const describeIfRunnable = runnable ? describe : describe.skip;

let engine: TestEngine;
let api: ServerType;
let idp: IdpProcess;
let ui: RunningTemporalUi;
let browser: Browser;
let workflowId: string;
let slotId: string;

beforeAll(async () => {
  if (!runnable) return;
  const binary = await ensureTemporalUiServer((line) => process.stderr.write(`${line}\n`));
  const [idpPort, uiPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const uiUrl = `http://127.0.0.1:${uiPort}`;
  // The UI's own client at the provider, as a city registers it: confidential, redirect to /auth/sso/callback.
  const uiClient: IdpClient = {
    client_id: 'temporal-ui',
    client_secret: randomUUID(),
    redirect_uris: [`${uiUrl}/auth/sso/callback`],
    pkce: false,
  };
  idp = await startIdpProcess({ port: idpPort, clients: [uiClient], keys: [await newKey()] });
  engine = await startTestEngine({
    configOverrides: {
      OIDC_ISSUER: idp.issuer,
      OIDC_AUDIENCE: API_AUDIENCE,
      API_HOST: '127.0.0.1',
      API_PORT: String(apiPort),
      CORS_ORIGINS: uiUrl,
      // Production's rule: /codec decodes only with a token, never for a token-less loopback caller.
      CODEC_LOOPBACK_OPEN: 'false',
    },
  });
  // Over https: the UI passes the signed-in user's token only to an https codec endpoint.
  const tls = selfSignedCertificate();
  api = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: engine.app.fetch, hostname: '127.0.0.1', port: apiPort, createServer, serverOptions: tls }, () => resolve(s));
  });
  ui = await startTemporalUi({
    binary,
    port: uiPort,
    temporalAddress: engine.config.TEMPORAL_ADDRESS!,
    // compose's default TEMPORAL_AUTH_SCOPES
    auth: {
      providerUrl: idp.issuer,
      clientId: uiClient.client_id,
      clientSecret: uiClient.client_secret,
      scopes: ['openid', 'profile', 'email'],
    },
    codecEndpoint: `https://127.0.0.1:${apiPort}/codec`,
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });

  const clinic = await makeClinic(engine.db);
  const patientId = await makePatient(engine.db);
  const slot = await makeSlot(engine.db, clinic, daysFromNow(3));
  slotId = slot.id;
  const init = jsonRequest('POST', await engine.token('registrar', { clinicIds: [clinic.clinicId] }), { slotId, patientId });
  (init.headers as Record<string, string>)['idempotency-key'] = `ui-oidc-${randomUUID()}`;
  const booked = await engine.app.request('/appointments', init);
  expect(booked.status).toBe(201);
  const { id } = (await booked.json()) as { id: string };
  workflowId = `booking-${id}`;
  await processStarted(engine.db, id);
});

/** A throwaway certificate for 127.0.0.1 (the browser context accepts it: ignoreHTTPSErrors). */
function selfSignedCertificate(): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ui-oidc-tls-'));
  const [key, cert] = [path.join(dir, 'key.pem'), path.join(dir, 'cert.pem')];
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1'].concat([
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ]),
    { stdio: 'ignore' },
  );
  return { key: readFileSync(key), cert: readFileSync(cert) };
}

afterAll(async () => {
  await browser?.close();
  await ui?.stop();
  api?.close();
  await idp?.stop();
  await engine?.stop();
});

/** Opens the workflow in a fresh browser, signs `user` in at the provider on the way, and records /codec's answers. */
async function signedInWorkflowPage(user: string): Promise<{ page: Page; codecStatuses: number[]; bearers: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1800 }, ignoreHTTPSErrors: true });
  const page = await context.newPage();
  const codecStatuses: number[] = [];
  const bearers: string[] = [];
  page.on('response', async (res) => {
    if (!res.url().endsWith('/codec/decode') || res.request().method() !== 'POST') return;
    codecStatuses.push(res.status());
    bearers.push((await res.request().allHeaders()).authorization ?? '');
  });
  const workflowUrl = `${ui.url}/namespaces/default/workflows/${workflowId}`;
  await page.goto(workflowUrl, { waitUntil: 'load', timeout: 60_000 });
  await signIn(page, user, workflowUrl);
  return { page, codecStatuses, bearers };
}

/** The UI's own sign-in button ("Continue to SSO" in v2.42.1). */
const signInButton = (page: Page) => page.getByRole('button', { name: /continue to sso/i }).first();

/**
 * Signs `user` in at the provider until the UI shows the workflow (its type, which only a signed-in UI has read).
 * The Temporal UI (v2.42.1) sometimes sends a browser just back from the provider to its login page again (its return
 * URL then points at /login itself, or the first call after the callback goes without the token), shows that page a
 * moment before moving on by itself, or stays there: so this follows what the page shows, as a user would, and signs
 * in again when asked, at most three times. The UI's button is pressed once per visit to that page: a second press
 * would start a second sign-in whose state replaces the first's.
 */
async function signIn(page: Page, user: string, workflowUrl: string): Promise<void> {
  let signIns = 0;
  let elsewhereSince = Date.now();
  await eventually(
    async () => {
      const url = new URL(page.url());
      if (url.href.startsWith(idp.issuer)) {
        if (++signIns > 3) throw new Error(`the Temporal UI still asks ${user} to sign in after 3 sign-ins`);
        await page.locator(`form:has(input[name="user"][value="${user}"]) button`).click();
        await page.waitForURL((u) => u.href.startsWith(ui.url) && !u.pathname.startsWith('/auth/'), { timeout: 30_000 });
        elsewhereSince = Date.now();
        return false;
      }
      if (url.href.startsWith(workflowUrl) && (await page.getByText('bookingWorkflow').first().isVisible())) return true;
      if (url.pathname.startsWith('/login') && (await signInButton(page).isVisible())) {
        await signInButton(page)
          .click({ timeout: 2000 })
          .catch(() => undefined);
        await page
          .waitForURL((u) => u.href.startsWith(idp.issuer) || u.href.startsWith(workflowUrl), { timeout: 15_000 })
          .catch(() => undefined);
        elsewhereSince = Date.now();
        return false;
      }
      // Signed in on a page that is neither (the UI's login page without its button, which it does not leave): open the workflow.
      if (Date.now() - elsewhereSince > 10_000) {
        await page.goto(workflowUrl, { waitUntil: 'load', timeout: 60_000 });
        elsewhereSince = Date.now();
      }
      return false;
    },
    120_000,
    `${user} signed in and the workflow shown`,
  );
}

/** The page's text once `wanted` shows (the holdSlot update's row opened, as the slot id travels there) or the wait runs out. */
async function pageText(page: Page, wanted: string): Promise<string> {
  let text = '';
  await eventually(
    async () => {
      text = await page.innerText('body');
      if (text.includes(wanted)) return true;
      await page
        .getByText('Workflow Execution Update Accepted')
        .first()
        .click({ timeout: 2000 })
        .catch(() => undefined);
      await page.waitForTimeout(500);
      text = await page.innerText('body');
      return text.includes(wanted);
    },
    30_000,
    'the value in the page',
  ).catch(() => undefined);
  return text;
}

describeIfRunnable('the Temporal UI signed in through the provider', () => {
  test("an ops user signed in at the provider sees the booking's payloads decoded", async () => {
    const { page, codecStatuses, bearers } = await signedInWorkflowPage('demo-ops');
    const text = await pageText(page, slotId);
    await page.screenshot({ path: '/tmp/ui-oidc-ops.png', fullPage: true });
    expect(text).toContain(slotId);
    expect(codecStatuses).toContain(200);
    expect(codecStatuses.every((s) => s === 200)).toBe(true);
    // What the UI passes is the provider's access token for the API (its audience), not the ID token (the UI client's).
    const claims = JSON.parse(Buffer.from(bearers[0]!.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({ iss: idp.issuer, sub: 'demo-ops', role: 'ops' });
    expect([claims.aud].flat()).toContain(API_AUDIENCE);
    await page.context().close();
  });

  test('a patient signed in at the provider is refused by /codec and sees only ciphertext', async () => {
    const { page, codecStatuses } = await signedInWorkflowPage('demo-patient');
    const encrypted = Buffer.from('binary/encrypted').toString('base64');
    const text = await pageText(page, encrypted);
    await page.screenshot({ path: '/tmp/ui-oidc-patient.png', fullPage: true });
    expect(codecStatuses.length).toBeGreaterThan(0);
    expect(codecStatuses.every((s) => s === 403)).toBe(true);
    expect(text).toContain(encrypted);
    expect(text).not.toContain(slotId);
    await page.context().close();
  });
});
