/**
 * The registrar's desk in a real browser against the real engine: find a patient by name, book for them in one
 * step, check them in from today's arrivals (the row turns arrived in place); the referral queue in deadline order,
 * a referral booked from it; day lists and leave; a patient or doctor refused; the demo city's arrivals seeded once.
 */
import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import type { Caller } from '../api/auth';
import { localToday } from '../domain/time';
import { ru } from '../web/i18n/ru';
import { seedDeskArrivals, DEMO_ARRIVALS } from '../workers/desk-demo';
import { demoId } from '../db/seed';
import { daysFromNow, makeClinic, makeSlot, type TestClinic } from './fixtures';
import { eventually, jsonRequest } from './helpers';
import { startWebHarness, tabTo, type WebHarness } from './web/harness';

jest.setTimeout(240_000);
let h: WebHarness;
let clinic: TestClinic;
beforeAll(async () => {
  h = await startWebHarness();
  clinic = await makeClinic(h.engine.db);
});
afterAll(async () => {
  await h?.stop();
});

const registrarOf = (clinicId: string): Caller => ({
  id: `desk-${clinicId.slice(0, 8)}`,
  role: 'registrar',
  // Only `clinicId`, as the demo sign-in stores a registrar: the session must still act for that clinic.
  clinicId,
});

/** A patient of the clinic (home clinic and attachment) with a family name no one else has. */
async function clinicPatient(family: string): Promise<string> {
  const row = await h.engine.db
    .insertInto('patients')
    .values({ full_name: `Varvara ${family}`, birth_date: '1961-03-04', sex: 'female', phone: null, home_clinic_id: clinic.clinicId })
    .returning('id')
    .executeTakeFirstOrThrow();
  await h.engine.db
    .insertInto('patient_attachments')
    .values({ patient_id: row.id, clinic_id: clinic.clinicId, attached_from: '2020-01-01T00:00:00Z' })
    .execute();
  return row.id;
}

async function deskPage(caller = registrarOf(clinic.clinicId)): Promise<Page> {
  const context = await h.newContext('tablet');
  await h.signInAs(context, caller);
  return context.newPage();
}

const statusOf = async (id: string) =>
  (await h.engine.db.selectFrom('appointments').select('status').where('id', '=', id).executeTakeFirst())?.status;

describe("the registrar's desk", () => {
  test("finds a patient by name, books them in one step, and checks them in from today's arrivals", async () => {
    const family = `Zhukova${randomUUID().slice(0, 6)}`;
    const patientId = await clinicPatient(family);
    // Today on the clinic's clock, within the two hours before the visit when check-in is open.
    const slot = await makeSlot(h.engine.db, clinic, 40 * 60, 20);
    const page = await deskPage();
    await page.goto('/');
    await page.click('main a[href="/desk"]');
    await page.waitForURL((u) => u.pathname === '/desk');
    expect(await h.screen(page, 'desk-today-empty')).toEqual([]);

    await page.fill('#name', family.slice(0, 7).toLowerCase());
    await page.evaluate('window.__sameDocument = true');
    await page.click('form[role="search"] button[type="submit"]');
    await page.waitForSelector(`#found [data-patient="${patientId}"]`);
    expect(await page.evaluate<boolean>('window.__sameDocument === true')).toBe(true);
    expect(await page.textContent(`#found [data-patient="${patientId}"]`)).toContain(`Varvara ${family}`);
    expect(await h.screen(page, 'desk-found')).toEqual([]);

    await page.click(`#found [data-patient="${patientId}"] a`);
    await page.waitForURL((u) => u.pathname === `/desk/patients/${patientId}/book`);
    expect(await h.screen(page, 'desk-book')).toEqual([]);
    await page.click(`form:has(input[name="slotId"][value="${slot.id}"]) button`);
    await page.waitForURL((u) => u.pathname === '/desk' && u.searchParams.get('done') === 'booked');
    expect(await page.textContent('.alert.notice')).toBe(ru.desk.booked);
    const booked = await h.engine.db
      .selectFrom('appointments')
      .selectAll()
      .where('slot_id', '=', slot.id)
      .where('patient_id', '=', patientId)
      .executeTakeFirstOrThrow();
    expect(booked.status).toBe('booked');
    const row = `tr[data-appointment="${booked.id}"]`;
    expect(await page.getAttribute(row, 'data-status')).toBe('booked');
    expect(await page.textContent(row)).toContain(`Varvara ${family}`);
    expect(await page.textContent(row)).toContain('Dr Test');
    expect(await h.screen(page, 'desk-today')).toEqual([]);

    // Check-in by keyboard alone; the row answers in place.
    await page.evaluate('window.__sameDocument = true');
    await page.focus('#name');
    await tabTo(page, (el) => el.tag === 'button' && el.text === ru.desk.checkIn);
    await page.keyboard.press('Enter');
    await page.waitForSelector(`${row}[data-status="arrived"], ${row}[data-status="checking-in"]`);
    expect(await page.evaluate<boolean>('window.__sameDocument === true')).toBe(true);
    await eventually(async () => (await statusOf(booked.id)) === 'arrived', 30_000, 'arrived');
    await page.reload();
    expect(await page.getAttribute(row, 'data-status')).toBe('arrived');
    expect(await page.textContent(`${row} .status`)).toBe(ru.appointmentStatus.arrived);
    expect(await page.$(`${row} button`)).toBeNull();
    await page.context().close();
  });

  test('a check-in the visit no longer allows is refused in its row, in place, and nothing changes', async () => {
    const patientId = await clinicPatient(`Lebedeva${randomUUID().slice(0, 6)}`);
    const slot = await makeSlot(h.engine.db, clinic, 70 * 60, 20);
    const token = await h.engine.token('registrar', { clinicId: clinic.clinicId, clinicIds: [clinic.clinicId] });
    const init = jsonRequest('POST', token, { slotId: slot.id, patientId, confirm: true });
    (init.headers as Record<string, string>)['idempotency-key'] = `desk-${randomUUID()}`;
    const booked = (await (await h.engine.app.request('/appointments', init)).json()) as { id: string };
    const page = await deskPage();
    await page.goto('/desk');
    const row = `tr[data-appointment="${booked.id}"]`;
    expect(await page.getAttribute(row, 'data-status')).toBe('booked');
    // Cancelled elsewhere while the desk's page is open.
    const cancel = await h.engine.app.request(`/appointments/${booked.id}/cancel`, jsonRequest('POST', token, { reason: 'phoned in' }));
    expect(cancel.status).toBe(200);
    await page.click(`${row} button`);
    await page.waitForSelector(`${row} [role="alert"]`);
    expect(await page.textContent(`${row} [role="alert"]`)).toBe(ru.errors.invalid_state);
    expect(await page.getAttribute(row, 'data-status')).toBe('cancelled');
    expect(await statusOf(booked.id)).toBe('cancelled');
    await page.context().close();
  });

  test('the referral queue is in deadline order, and a referral is booked from it', async () => {
    const patientA = await clinicPatient(`Orlova${randomUUID().slice(0, 6)}`);
    const patientB = await clinicPatient(`Sokolova${randomUUID().slice(0, 6)}`);
    const specialty = (
      await h.engine.db
        .selectFrom('practitioners')
        .select('specialty')
        .where('id', '=', clinic.otherPractitionerId)
        .executeTakeFirstOrThrow()
    ).specialty;
    const offered = await makeSlot(h.engine.db, clinic, daysFromNow(2), 20, clinic.otherPractitionerId);
    await makeSlot(h.engine.db, clinic, daysFromNow(3), 20, clinic.otherPractitionerId);
    const token = await h.engine.token('registrar', { clinicId: clinic.clinicId, clinicIds: [clinic.clinicId] });
    const refer = async (patientId: string, urgency: string) => {
      const init = jsonRequest('POST', token, {
        patientId,
        referringPractitionerId: clinic.practitionerId,
        specialty,
        urgency,
        reason: 'desk test',
        icd10: 'G43.9',
      });
      (init.headers as Record<string, string>)['idempotency-key'] = `desk-${randomUUID()}`;
      const res = await h.engine.app.request('/referrals', init);
      expect(res.status).toBe(201);
      return ((await res.json()) as { id: string }).id;
    };
    const routine = await refer(patientA, 'routine');
    const urgent = await refer(patientB, 'cancer-suspected');

    const page = await deskPage();
    await page.goto('/desk/referrals');
    const shown = await page.$$eval('ol.queue > li', (els) =>
      els.map((e) => ({ id: e.getAttribute('data-referral')!, deadline: e.getAttribute('data-deadline')! })),
    );
    expect(shown.map((r) => r.id)).toEqual([urgent, routine]);
    expect(Date.parse(shown[0]!.deadline)).toBeLessThan(Date.parse(shown[1]!.deadline));
    const rows = await h.engine.db.selectFrom('referrals').select(['id', 'deadline_at']).where('id', 'in', [urgent, routine]).execute();
    expect(shown.map((r) => r.deadline)).toEqual(shown.map((r) => rows.find((x) => x.id === r.id)!.deadline_at.toISOString()));
    expect(await page.textContent(`li[data-referral="${urgent}"]`)).toContain(ru.desk.urgency['cancer-suspected']!);
    expect(await h.screen(page, 'desk-referrals')).toEqual([]);

    await page.click(`li[data-referral="${urgent}"] summary`);
    await page.click(`li[data-referral="${urgent}"] form:has(input[value="${offered.id}"]) button`);
    await page.waitForURL((u) => u.pathname === '/desk/referrals' && u.searchParams.get('done') === 'booked');
    expect(await page.textContent('.alert.notice')).toBe(ru.desk.referralBooked);
    const referral = await eventually(
      async () => {
        const r = await h.engine.db
          .selectFrom('referrals')
          .select(['status', 'appointment_id'])
          .where('id', '=', urgent)
          .executeTakeFirstOrThrow();
        return r.status === 'booked' && r.appointment_id ? r : undefined;
      },
      30_000,
      'referral booked',
    );
    const visit = await h.engine.db
      .selectFrom('appointments')
      .select(['slot_id', 'patient_id', 'status'])
      .where('id', '=', referral.appointment_id!)
      .executeTakeFirstOrThrow();
    expect(visit).toEqual({ slot_id: offered.id, patient_id: patientB, status: 'booked' });
    expect(await page.$(`li[data-referral="${urgent}"]`)).toBeNull();
    expect(await page.$(`li[data-referral="${routine}"]`)).not.toBeNull();
    await page.context().close();
  });

  test('day lists and leave: the leave closes free times and lists the visits to move', async () => {
    const leaveClinic = await makeClinic(h.engine.db);
    const free = await makeSlot(h.engine.db, leaveClinic, daysFromNow(5), 20);
    const page = await deskPage(registrarOf(leaveClinic.clinicId));
    await page.goto(`/desk/day?practitioner=${leaveClinic.practitionerId}&date=${localToday('Europe/Moscow')}`);
    expect(await page.textContent('main')).toContain(ru.desk.noDay);
    expect(await h.screen(page, 'desk-day')).toEqual([]);
    await page.goto('/desk/leave');
    expect(await h.screen(page, 'desk-leave')).toEqual([]);
    const day = localToday('Europe/Moscow', daysFromNow(5));
    await page.selectOption('#leave-practitioner', leaveClinic.practitionerId);
    await page.fill('#startsOn', day);
    await page.fill('#endsOn', day);
    await page.click('form[action="/desk/leave"] button[type="submit"]');
    await page.waitForSelector('#to-move');
    expect(await page.textContent('.alert.notice')).toBe(ru.desk.leaveRecorded(1));
    expect((await h.engine.db.selectFrom('slots').select('status').where('id', '=', free.id).executeTakeFirstOrThrow()).status).toBe(
      'busy-unavailable',
    );
    await page.context().close();
  });

  test('a patient and a doctor are refused the desk with a clear page, and nothing of it shows', async () => {
    for (const caller of [
      { id: 'desk-patient', role: 'patient', patientId: demoId('patient:0') },
      { id: 'desk-doctor', role: 'doctor', practitionerId: clinic.practitionerId },
    ] as Caller[]) {
      const page = await deskPage(caller);
      const res = await page.goto('/desk');
      expect(res?.status()).toBe(403);
      expect(await page.textContent('h1')).toBe(ru.forbiddenTitle);
      expect(await page.$('#name')).toBeNull();
      expect(await h.screen(page, `desk-forbidden-${caller.role}`)).toEqual([]);
      await page.context().close();
    }
  });

  test("the demo city seeds today's arrivals at PC-01 once, and the demo registrar sees them", async () => {
    const opts = { client: h.engine.client, db: h.engine.db, taskQueue: h.engine.config.CLINICAL_TASK_QUEUE };
    const booked = await seedDeskArrivals(opts);
    expect(booked).toBeGreaterThan(0);
    expect(booked).toBeLessThanOrEqual(DEMO_ARRIVALS);
    // Again: nothing booked twice. It may book an arrival the first run could not (its patient busy
    // then in another suite on the same Postgres), never more than the demo's arrivals in all.
    const again = await seedDeskArrivals(opts);
    expect(booked + again).toBeLessThanOrEqual(DEMO_ARRIVALS);
    const today = localToday('Europe/Moscow');
    const ids = Array.from({ length: DEMO_ARRIVALS }, (_, k) => demoId(`arrival:${today}:${k}`));
    const rows = await h.engine.db
      .selectFrom('appointments')
      .select(['id', 'status', 'clinic_id', 'process_started_at'])
      .where('id', 'in', ids)
      .execute();
    expect(rows).toHaveLength(booked + again);
    for (const r of rows) expect(r).toMatchObject({ status: 'booked', clinic_id: demoId('clinic:PC-01') });
    expect(rows.every((r) => r.process_started_at !== null)).toBe(true);
    const page = await deskPage(registrarOf(demoId('clinic:PC-01')));
    await page.goto('/desk');
    for (const r of rows) expect(await page.getAttribute(`tr[data-appointment="${r.id}"]`, 'data-status')).toBe('booked');
    expect(await h.screen(page, 'desk-demo-arrivals')).toEqual([]);
    await page.context().close();
  });
});
