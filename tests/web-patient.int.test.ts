/**
 * The patient's app in a real browser against the real engine: sign in, find a slot, hold,
 * confirm, see it in the clinic's local time, cancel; the waitlist and an accepted offer; a taken
 * slot and an expired hold in forms; the whole booking by keyboard. Every screen at 360 and
 * 1024 px, screenshotted and checked by axe-core.
 */
import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import { demoId } from '../db/seed';
import { localDateTime } from '../domain/time';
import { daysFromNow, makeClinic, makePatient, makeSlot, type TestClinic } from './fixtures';
import { eventually, jsonRequest } from './helpers';
import { startWebHarness, tabTo, type WebHarness } from './web/harness';

jest.setTimeout(180_000);
const DEMO_PATIENT = demoId('patient:0');
let h: WebHarness;

beforeAll(async () => {
  h = await startWebHarness();
});
afterAll(async () => {
  await h?.stop();
});

const localDate = (d: Date, zone: string) => localDateTime(d, zone).slice(0, 10);
const rowOf = (id: string) => h.engine.db.selectFrom('appointments').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const appointmentIdIn = (page: Page) => /\/patient\/appointments\/([0-9a-f-]{36})/.exec(page.url())?.[1];

async function signInAsDemoPatient(page: Page) {
  await page.goto('/sign-in');
  expect(await h.screen(page, 'sign-in')).toEqual([]);
  await page.click('button[data-user="demo-patient"]');
  await page.waitForURL((u) => u.pathname === '/');
}

/** Books a slot as another patient through the JSON API (a token, as the app would send). */
async function bookAsOther(slotId: string) {
  const patientId = await makePatient(h.engine.db);
  const token = await h.engine.token('patient', { id: `other-${patientId}`, patientId });
  const init = jsonRequest('POST', token, { slotId, patientId });
  (init.headers as Record<string, string>)['idempotency-key'] = `other-${randomUUID()}`;
  const res = await h.engine.app.request('/appointments', init);
  expect(res.status).toBe(201);
  const { id } = (await res.json()) as { id: string };
  expect((await h.engine.app.request(`/appointments/${id}/confirm`, jsonRequest('POST', token))).status).toBe(200);
  return { id, token };
}

describe('the patient books from the app', () => {
  let clinic: TestClinic;
  beforeAll(async () => {
    clinic = await makeClinic(h.engine.db, { timeZone: 'Asia/Yekaterinburg', policy: { holdSeconds: 300, offerHoldSeconds: 300 } });
  });

  test("signs in, finds a slot, holds and confirms it, sees it in the clinic's local time, reschedules and cancels it", async () => {
    const slot = await makeSlot(h.engine.db, clinic, daysFromNow(3, 6)); // 06:00 UTC is 11:00 in Yekaterinburg
    const later = await makeSlot(h.engine.db, clinic, daysFromNow(3, 8));
    const context = await h.newContext('phone');
    const page = await context.newPage();
    await signInAsDemoPatient(page);
    expect(await h.screen(page, 'patient-home')).toEqual([]);

    await page.goto('/patient/book');
    await page.selectOption('#specialty', clinic.specialty);
    await page.selectOption('#clinic', clinic.clinicId);
    await page.fill('#date', localDate(slot.startsAt, 'Asia/Yekaterinburg'));
    await page.click('form[role="search"] button[type="submit"]');
    await page.waitForSelector(`input[name="slotId"][value="${slot.id}"]`, { state: 'attached' });
    expect(await h.screen(page, 'patient-find-slot')).toEqual([]);

    await page.click(`form:has(input[name="slotId"][value="${slot.id}"]) button`);
    await page.waitForURL(/\/patient\/appointments\/[0-9a-f-]{36}$/);
    const id = appointmentIdIn(page)!;
    await page.waitForSelector('[role="timer"]');
    expect(await page.textContent('[data-status]')).toContain('закреплено');
    expect((await rowOf(id)).status).toBe('held');
    expect(await h.screen(page, 'patient-hold')).toEqual([]);

    await page.click('form[action$="/confirm"] button');
    await page.waitForSelector('.alert.notice');
    expect((await rowOf(id)).status).toBe('booked');

    await page.goto('/patient/appointments');
    const card = page.locator(`[data-appointment="${id}"]`);
    expect(await card.textContent()).toContain('11:00');
    expect(await card.textContent()).toContain('Asia/Yekaterinburg');
    expect(await card.getAttribute('data-status')).toBe('booked');
    expect(await h.screen(page, 'patient-appointments')).toEqual([]);

    await card.locator('a').click();
    await page.waitForURL(new RegExp(id));
    await page.click(`a[href="/patient/appointments/${id}/reschedule"]`);
    await page.waitForSelector(`input[name="slotId"][value="${later.id}"]`, { state: 'attached' });
    expect(await h.screen(page, 'patient-reschedule')).toEqual([]);
    await page.click(`form:has(input[name="slotId"][value="${later.id}"]) button`);
    await page.waitForSelector('.alert.notice');
    expect(await page.textContent('main time')).toContain('13:00');
    expect((await rowOf(id)).slot_id).toBe(later.id);
    expect((await rowOf(id)).status).toBe('booked');
    await page.click('form[action$="/cancel"] button');
    await page.waitForURL(/done=cancelled/);
    expect(await page.textContent('.alert.notice')).toContain('отменена');
    expect((await rowOf(id)).status).toBe('cancelled');
    expect((await rowOf(id)).cancel_reason).toBe('Отменено пациентом');
    await context.close();
  });

  test('joins the waitlist, then accepts the offer made when another patient cancels', async () => {
    const slot = await makeSlot(h.engine.db, clinic, daysFromNow(2, 7));
    const other = await bookAsOther(slot.id);
    const context = await h.newContext('phone');
    const page = await context.newPage();
    await signInAsDemoPatient(page);
    const date = localDate(slot.startsAt, 'Asia/Yekaterinburg');
    await page.goto(`/patient/book?specialty=${encodeURIComponent(clinic.specialty)}&clinic=${clinic.clinicId}&date=${date}`);
    expect(await page.locator(`input[name="slotId"][value="${slot.id}"]`).count()).toBe(0);
    await page.fill('#wanted-before', localDate(daysFromNow(5), 'Asia/Yekaterinburg'));
    await page.click('form[action="/patient/waitlist"] button');
    await page.waitForURL(/\/patient\/appointments\?done=waitlist/);
    expect(await h.screen(page, 'patient-waitlist')).toEqual([]);
    const entry = await h.engine.db
      .selectFrom('waitlist_entries')
      .selectAll()
      .where('patient_id', '=', DEMO_PATIENT)
      .where('specialty', '=', clinic.specialty)
      .executeTakeFirstOrThrow();
    expect(entry.status).toBe('waiting');

    // The other patient cancels: the process offers the slot, and the open page shows it (SSE) without a reload by hand.
    expect(
      (await h.engine.app.request(`/appointments/${other.id}/cancel`, jsonRequest('POST', other.token, { reason: 'cannot come' }))).status,
    ).toBe(200);
    const offered = page.locator('[data-status="offered"]');
    await offered.first().waitFor({ timeout: 30_000 });
    await offered.first().locator('a').click();
    await page.waitForSelector('[role="timer"]');
    expect(await h.screen(page, 'patient-offer')).toEqual([]);
    const offerId = appointmentIdIn(page)!;
    expect((await rowOf(offerId)).slot_id).toBe(slot.id);
    await page.click('form[action$="/confirm"] button');
    await page.waitForSelector('.alert.notice');
    expect((await rowOf(offerId)).status).toBe('booked');
    await context.close();
  });
});

describe('forms say what went wrong and write nothing half-way', () => {
  test('a slot taken meanwhile says so and offers the next one; nothing is held', async () => {
    const clinic = await makeClinic(h.engine.db, { timeZone: 'Europe/Moscow' });
    const first = await makeSlot(h.engine.db, clinic, daysFromNow(4, 6));
    const next = await makeSlot(h.engine.db, clinic, daysFromNow(4, 8));
    const context = await h.newContext('tablet');
    await h.signInAs(context, { id: 'demo-patient', role: 'patient', patientId: DEMO_PATIENT });
    const page = await context.newPage();
    await page.goto(
      `/patient/book?specialty=${encodeURIComponent(clinic.specialty)}&clinic=${clinic.clinicId}&date=${localDate(first.startsAt, 'Europe/Moscow')}`,
    );
    await bookAsOther(first.id);
    await page.click(`form:has(input[name="slotId"][value="${first.id}"]) button`);
    await page.waitForSelector('.alert.error');
    expect(await page.textContent('.alert.error')).toContain('уже заняли');
    expect(await page.locator(`#next-free ~ ul input[name="slotId"][value="${next.id}"]`).count()).toBe(1);
    expect(await h.screen(page, 'patient-slot-taken')).toEqual([]);
    const mine = await h.engine.db
      .selectFrom('appointments')
      .select('id')
      .where('patient_id', '=', DEMO_PATIENT)
      .where('slot_id', '=', first.id)
      .execute();
    expect(mine).toEqual([]);
    await context.close();
  });

  test('an expired hold says so when confirmed late, and stays unbooked', async () => {
    const clinic = await makeClinic(h.engine.db, { policy: { holdSeconds: 2 } });
    const slot = await makeSlot(h.engine.db, clinic, daysFromNow(4, 10));
    // Without JavaScript: the page holds still (no live reload), as a slow phone would.
    const context = await h.newContext('phone', { javaScriptEnabled: false });
    await h.signInAs(context, { id: 'demo-patient', role: 'patient', patientId: DEMO_PATIENT });
    const page = await context.newPage();
    await page.goto(
      `/patient/book?specialty=${encodeURIComponent(clinic.specialty)}&clinic=${clinic.clinicId}&date=${localDate(slot.startsAt, 'Europe/Moscow')}`,
    );
    await page.click(`form:has(input[name="slotId"][value="${slot.id}"]) button`);
    await page.waitForURL(/\/patient\/appointments\/[0-9a-f-]{36}$/);
    const id = appointmentIdIn(page)!;
    await eventually(
      async () => {
        const row = await rowOf(id);
        return row.status === 'expired' || (row.hold_expires_at !== null && row.hold_expires_at.getTime() < Date.now() - 500);
      },
      10_000,
      'the hold to lapse',
    );
    await page.click('form[action$="/confirm"] button');
    await page.waitForSelector('.alert.error');
    expect(await page.textContent('.alert.error')).toContain('истекло');
    expect(['held', 'expired']).toContain((await rowOf(id)).status);
    expect(await h.screen(page, 'patient-hold-expired')).toEqual([]);
    await context.close();
  });
});

test('the whole booking journey works by keyboard alone', async () => {
  const clinic = await makeClinic(h.engine.db, { timeZone: 'Europe/Moscow' });
  const slot = await makeSlot(h.engine.db, clinic, daysFromNow(1, 9));
  const context = await h.newContext('tablet');
  const page = await context.newPage();
  await page.goto('/sign-in');
  await tabTo(page, (el) => el.tag === 'button' && el.text.includes('Пациент'));
  await page.keyboard.press('Enter');
  await page.waitForURL((u) => u.pathname === '/');
  await tabTo(page, (el) => el.href === '/patient/book');
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/patient\/book/);
  await tabTo(page, (el) => el.name === 'specialty');
  for (let i = 0; i < 200 && (await page.inputValue('#specialty')) !== clinic.specialty; i++) await page.keyboard.press('ArrowDown');
  expect(await page.inputValue('#specialty')).toBe(clinic.specialty);
  await page.keyboard.press('Tab');
  for (let i = 0; i < 200 && (await page.inputValue('#clinic')) !== clinic.clinicId; i++) await page.keyboard.press('ArrowDown');
  await tabTo(page, (el) => el.tag === 'button' && el.text === 'Найти');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#free-slots');
  // Day by day to the slot's date, by the "next day" link.
  for (let i = 0; i < 5 && (await page.locator(`input[name="slotId"][value="${slot.id}"]`).count()) === 0; i++) {
    await tabTo(page, (el) => el.tag === 'a' && el.text.startsWith('Следующий день'));
    await page.keyboard.press('Enter');
    await page.waitForLoadState('load');
    await page.waitForTimeout(300);
  }
  await tabTo(page, (el) => el.tag === 'button' && el.text.length > 0 && el.text.includes(':') && el.name === null);
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/patient\/appointments\/[0-9a-f-]{36}$/);
  const id = appointmentIdIn(page)!;
  await tabTo(page, (el) => el.tag === 'button' && el.text === 'Подтвердить запись');
  await page.keyboard.press('Enter');
  await page.waitForSelector('.alert.notice');
  const row = await rowOf(id);
  expect(row.status).toBe('booked');
  expect(row.slot_id).toBe(slot.id);
  await context.close();
});
