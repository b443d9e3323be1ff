/**
 * The patient's record in a real browser: final lab results with their flags and each test's
 * trend, a preliminary result never shown, referrals with their legal deadline, who read the
 * record; another patient's id in the URL is refused. Every screen checked by axe at 360 and 1024 px.
 */
import { randomUUID } from 'node:crypto';
import { demoId } from '../db/seed';
import { makeLabClinic, makeLabPatient } from './lab-fixtures';
import { startWebHarness, type WebHarness } from './web/harness';

jest.setTimeout(180_000);
let h: WebHarness;

beforeAll(async () => {
  h = await startWebHarness();
});
afterAll(async () => {
  await h?.stop();
});

/** A released (or not yet released) lab order with these glucose results, as the lab process leaves it in Postgres. */
async function labOrder(
  patientId: string,
  clinic: { clinicId: string; doctorId: string },
  daysAgo: number,
  glucose: number,
  flag: 'N' | 'H',
  status: 'final' | 'preliminary',
) {
  const id = randomUUID();
  const at = new Date(Date.now() - daysAgo * 86_400_000);
  await h.engine.db
    .insertInto('lab_orders')
    .values({
      id,
      patient_id: patientId,
      clinic_id: clinic.clinicId,
      ordering_practitioner_id: clinic.doctorId,
      tests: ['2345-7'],
      priority: 'routine',
      status: status === 'final' ? 'final' : 'resulted',
      workflow_id: `lab-order-${id}`,
      clinical_note: null,
      created_by: 'test',
      resulted_at: at,
      final_at: status === 'final' ? at : null,
    })
    .execute();
  await h.engine.db
    .insertInto('lab_result_versions')
    .values({
      lab_order_id: id,
      loinc: '2345-7',
      version: 1,
      value: glucose,
      unit: 'mmol/L',
      reported_value: glucose,
      reported_unit: 'mmol/L',
      interpretation: flag,
      ref_low: 3.9,
      ref_high: 6.1,
      status,
      source: 'test',
      posted_by: 'test',
      resulted_at: at,
    })
    .execute();
  return id;
}

test("a patient sees final results with flags and a trend, never a preliminary one, and is refused another patient's", async () => {
  const clinic = await makeLabClinic(h.engine.db);
  const patientId = await makeLabPatient(h.engine.db);
  const older = await labOrder(patientId, clinic, 30, 5.2, 'N', 'final');
  const newer = await labOrder(patientId, clinic, 2, 7.4, 'H', 'final');
  const preliminary = await labOrder(patientId, clinic, 0, 9.9, 'H', 'preliminary');
  const context = await h.newContext('phone');
  await h.signInAs(context, { id: `patient-${patientId}`, role: 'patient', patientId });
  const page = await context.newPage();

  await page.goto(`/records/${patientId}/results`);
  expect(await page.locator(`[data-order="${older}"]`).count()).toBe(1);
  expect(await page.locator(`[data-order="${preliminary}"]`).count()).toBe(0);
  const latest = page.locator(`[data-order="${newer}"] tr[data-loinc="2345-7"]`);
  expect(await latest.locator('[data-flag]').getAttribute('data-flag')).toBe('H');
  expect(await latest.textContent()).toContain('выше нормы');
  expect(await latest.locator('svg[role="img"]').getAttribute('aria-label')).toContain('5.2 mmol/L, 7.4 mmol/L');
  expect(await page.textContent('main')).not.toContain('9.9');
  expect(await h.screen(page, 'patient-results')).toEqual([]);

  const other = await makeLabPatient(h.engine.db);
  const refused = await page.goto(`/records/${other}/results`);
  expect(refused?.status()).toBe(403);
  expect(await page.textContent('.alert.error')).toContain('не ваша');
  expect((await page.goto(`/records/${other}/referrals`))?.status()).toBe(403);
  expect((await page.goto(`/records/${other}/access-log`))?.status()).toBe(403);

  // The access log lists the reads the results page made (and no refused read of the other patient).
  await page.goto(`/records/${patientId}/access-log`);
  expect(await page.locator('tr[data-action="read"]').count()).toBeGreaterThan(0);
  expect(await h.screen(page, 'patient-access-log')).toEqual([]);
  await context.close();
});

test('the patient sees each referral with its legal deadline and state, in English too', async () => {
  const patientId = demoId('patient:0');
  const context = await h.newContext('tablet');
  await h.signInAs(context, { id: 'demo-patient', role: 'patient', patientId });
  const page = await context.newPage();
  await page.goto(`/records/${patientId}/referrals`);
  const referral = page.locator('[data-referral]').first();
  await referral.waitFor();
  expect(await referral.textContent()).toContain('Срок по закону');
  expect(await referral.getAttribute('data-status')).toBeTruthy();
  expect(await h.screen(page, 'patient-referrals')).toEqual([]);

  await page.click('footer a[lang="en"]');
  await page.waitForURL(new RegExp(`/records/${patientId}/referrals`));
  expect(await page.getAttribute('html', 'lang')).toBe('en');
  expect(await page.locator('[data-referral]').first().textContent()).toContain('Legal deadline');
  expect(await h.screen(page, 'patient-referrals-en')).toEqual([]);
  await context.close();
});

test('sign-out ends the session on the server: the old cookie no longer opens a page', async () => {
  const context = await h.newContext('phone');
  const page = await context.newPage();
  await page.goto('/sign-in');
  await page.click('button[data-user="demo-patient"]');
  await page.waitForURL((u) => u.pathname === '/');
  const [cookie] = (await context.cookies()).filter((c) => c.name === 'sid');
  expect(cookie?.httpOnly).toBe(true);
  expect(cookie?.sameSite).toBe('Strict');
  await page.click('footer form[action="/sign-out"] button');
  await page.waitForURL(/\/sign-in/);
  const replay = await h.engine.app.request('/patient/appointments', { headers: { cookie: `sid=${cookie!.value}` } });
  expect(replay.status).toBe(303);
  expect(replay.headers.get('location')).toBe('/sign-in');
  // A form posted without the session's token is refused, and so is one from another origin.
  const context2 = await h.newContext('phone');
  const p2 = await context2.newPage();
  await p2.goto('/sign-in');
  await p2.click('button[data-user="demo-patient"]');
  await p2.waitForURL((u) => u.pathname === '/');
  const [sid] = (await context2.cookies()).filter((c) => c.name === 'sid');
  const noToken = await h.engine.app.request(`${h.baseUrl}/patient/waitlist`, {
    method: 'POST',
    headers: { cookie: `sid=${sid!.value}`, origin: h.baseUrl, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'specialty=x&wantedBefore=2030-01-01&key=abcdefgh1',
  });
  expect(noToken.status).toBe(403);
  const crossSite = await h.engine.app.request(`${h.baseUrl}/sign-in`, {
    method: 'POST',
    headers: { origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
    body: 'user=demo-admin',
  });
  expect(crossSite.status).toBe(403);
  expect(await h.engine.db.selectFrom('waitlist_entries').select('id').where('specialty', '=', 'x').execute()).toEqual([]);
  await context.close();
  await context2.close();
});
