/**
 * The patient's message pages in a real browser: contact points with consent and a preferred
 * channel, saved to the database; the inbox, which shows a new message live (SSE) while open.
 */
import { randomUUID } from 'node:crypto';
import { contactPointsOf } from '../db/notify';
import { makePatient } from './fixtures';
import { eventually } from './helpers';
import { startWebHarness, type WebHarness } from './web/harness';

let h: WebHarness;
beforeAll(async () => {
  h = await startWebHarness();
});
afterAll(async () => {
  await h?.stop();
});

test('a patient gives an e-mail with consent and a phone without, prefers e-mail, and the inbox shows a new message while it is open', async () => {
  const patientId = await makePatient(h.engine.db);
  const context = await h.newContext('phone');
  await h.signInAs(context, { id: `patient-${patientId}`, role: 'patient', patientId });
  const page = await context.newPage();

  await page.goto('/patient/contacts');
  expect(await h.screen(page, 'patient-contacts')).toEqual([]);
  await page.fill('input[name="email-address"]', 'anna@patients.example');
  await page.check('input[name="email-consent"]');
  await page.fill('input[name="sms-address"]', '+79161234567');
  await page.check('input[name="preferred"][value="email"]');
  await page.click('button[type="submit"]');
  await page.waitForSelector('.alert.notice');
  expect(await page.textContent('.alert.notice')).toBe('Сохранено.');
  expect(await contactPointsOf(h.engine.db, 'patient', patientId)).toEqual(
    expect.arrayContaining([
      { channel: 'email', address: 'anna@patients.example', consent: true, preferred: true },
      { channel: 'sms', address: '+79161234567', consent: false, preferred: false },
    ]),
  );

  // A preferred channel without consent is refused, and nothing changes.
  await page.uncheck('input[name="email-consent"]');
  await page.click('button[type="submit"]');
  await page.waitForSelector('.alert.error');
  expect((await contactPointsOf(h.engine.db, 'patient', patientId)).find((p) => p.channel === 'email')?.consent).toBe(true);

  await page.goto('/patient/inbox');
  expect(await page.textContent('main')).toContain('Сообщений пока нет.');
  expect(await h.screen(page, 'patient-inbox')).toEqual([]);
  await h.engine.db
    .insertInto('inbox_messages')
    .values({
      delivery_key: `test:${randomUUID()}`,
      recipient_type: 'patient',
      recipient_id: patientId,
      kind: 'results-ready',
      subject: 'Результаты готовы / Your results are ready',
      body: 'Ваши результаты готовы.',
      link: `${h.baseUrl}/patient/inbox`,
    })
    .execute();
  await eventually(
    async () => (await page.textContent('main'))?.includes('Результаты готовы / Your results are ready'),
    15_000,
    'the live inbox',
  );
  await context.close();
});
