/**
 * Messages that did not reach people, as ops and staff see them (issue 23), in a real browser on the real engine: the
 * failures page with its reasons and counts, the unreachable patients, the on-call roster form (added, refused,
 * removed, each in the audit trail), the refusal of other roles, and the notifications list on the doctor's visit page.
 *
 * The failed delivery and the unreachable patient come the real way: the real delivery process (workflows/notify.ts)
 * and its activities, against an SMS gateway double that answers 500 to every message, for a patient whose only
 * channel is SMS (SMS failed, then handed to ops) and one with no consented channel (handed to ops, no-channel). The
 * processes are started as the delivery relay starts them, without a relay: a relay here would share Postgres with
 * the notify tests' relays and could claim their rows.
 */
import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import type { Caller } from '../api/auth';
import { saveContactPoints } from '../db/notify';
import { DEFAULT_NOTIFY_POLICY, type NotifyPolicy } from '../domain/notify';
import { ru } from '../web/i18n/ru';
import { notifyWorkflow, notifyWorkflowId } from '../workflows/notify';
import { daysFromNow, makeBookedRow, makeClinic, makePatient, makeSlot, type TestClinic } from './fixtures';
import { startSmsGatewayDouble, type SmsGatewayDouble } from './notify-doubles';
import { startWebHarness, tabTo, type WebHarness } from './web/harness';

jest.setTimeout(240_000);
const SMS_KEY = 'ops-notify-sms-key';
/** Never quiet, quick retries: the failure is the point, not the wait. */
const POLICY: NotifyPolicy = {
  ...DEFAULT_NOTIFY_POLICY,
  quietFromMinute: 0,
  quietToMinute: 0,
  attemptsPerChannel: 2,
  retryInitialSeconds: 0.2,
  retryMaxSeconds: 1,
  sendTimeoutSeconds: 5,
  smsReportSeconds: 4,
};
const OPS: Caller = { id: 'ops-messages', role: 'ops' };
const n = ru.opsNotify;

let sms: SmsGatewayDouble;
let h: WebHarness;
let clinic: TestClinic;
let appointmentId: string;
let smsOnly: string;
let unreachable: string;

/** One delivery process for a patient's message, as the relay starts it; resolves when it has finished. */
async function deliver(patientId: string, refs: { appointmentId: string | null }) {
  const messageKey = `test-ops-${randomUUID()}`;
  const handle = await h.engine.client.workflow.start(notifyWorkflow, {
    workflowId: notifyWorkflowId(messageKey),
    taskQueue: h.engine.config.CLINICAL_TASK_QUEUE,
    args: [
      {
        messageKey,
        kind: 'reminder',
        recipient: { type: 'patient', id: patientId },
        decidedAt: new Date().toISOString(),
        refs: { appointmentId: refs.appointmentId, labOrderId: null, referralId: null },
        policy: POLICY,
      },
    ],
  });
  await handle.result();
}

beforeAll(async () => {
  sms = await startSmsGatewayDouble(SMS_KEY);
  sms.mode = 'fail';
  h = await startWebHarness({ SMS_GATEWAY_URL: sms.url, SMS_GATEWAY_KEY: SMS_KEY });
  const db = h.engine.db;
  clinic = await makeClinic(db);
  smsOnly = await makePatient(db);
  unreachable = await makePatient(db);
  await saveContactPoints(
    db,
    { type: 'patient', id: smsOnly },
    [{ channel: 'sms', address: '79160000101', consent: true, preferred: true }],
    'test',
  );
  await saveContactPoints(
    db,
    { type: 'patient', id: unreachable },
    [{ channel: 'sms', address: '79160000102', consent: false, preferred: false }],
    'test',
  );
  const slot = await makeSlot(db, clinic, daysFromNow(1));
  appointmentId = await makeBookedRow(db, clinic, slot, smsOnly);
  await Promise.all([deliver(smsOnly, { appointmentId }), deliver(unreachable, { appointmentId: null })]);
});
afterAll(async () => {
  await h?.stop();
  await sms?.close();
});

async function signedIn(caller: Caller, viewport: 'phone' | 'tablet' = 'phone'): Promise<Page> {
  const context = await h.newContext(viewport);
  await h.signInAs(context, caller);
  return context.newPage();
}

const liveEntries = () =>
  h.engine.db.selectFrom('on_call_roster').selectAll().where('clinic_id', '=', clinic.clinicId).where('removed_at', 'is', null).execute();

describe("ops' message screens", () => {
  test('ops sees the failed SMS with its reason and the hand-off to ops, the counts per channel, and the unreachable patient by id', async () => {
    const page = await signedIn(OPS);
    await page.goto('/ops');
    await page.click(`nav.subnav a[href="/ops/deliveries"]`);
    await page.waitForURL((u) => u.pathname === '/ops/deliveries');
    expect(await page.textContent('h1')).toBe(n.failuresTitle);
    const failed = page.locator(`table.failures tr[data-channel="sms"]:has([data-record="${appointmentId}"])`);
    expect(await failed.count()).toBe(1);
    expect(await failed.locator('td.reason').textContent()).toMatch(/^Busy: the SMS gateway answered 500/);
    const handedOver = page.locator(`table.failures tr[data-channel="ops"]:has([data-record="${appointmentId}"])`);
    expect(await handedOver.getAttribute('data-reason')).toBe('all-channels-failed');
    expect(await handedOver.textContent()).toContain(n.todos['all-channels-failed:patient']);
    const noChannel = page.locator(`table.failures tr[data-reason="no-channel"][data-recipient="${unreachable}"]`);
    expect(await noChannel.count()).toBe(1);
    expect(
      Number(await page.textContent('table.delivery-counts tr[data-channel="sms"][data-kind="reminder"] td[data-status="failed"]')),
    ).toBeGreaterThanOrEqual(1);
    // Ids only: neither patient's name nor phone is on an ops page.
    const names = await h.engine.db.selectFrom('patients').select('full_name').where('id', 'in', [smsOnly, unreachable]).execute();
    const main = (await page.textContent('main'))!;
    for (const p of names) expect(main).not.toContain(p.full_name);
    expect(main).not.toContain('79160000101');
    expect(await h.screen(page, 'ops-deliveries')).toEqual([]);

    await page.click(`nav.subnav a[href="/ops/unreachable"]`);
    await page.waitForURL((u) => u.pathname === '/ops/unreachable');
    expect(await page.$(`table.unreachable tr[data-patient="${unreachable}"]`)).not.toBeNull();
    // Tried and failed is not unreachable: that patient has a consented channel.
    expect(await page.$(`table.unreachable tr[data-patient="${smsOnly}"]`)).toBeNull();
    expect(await page.textContent('p.todo')).toBe(n.unreachableTodo);
    expect(await h.screen(page, 'ops-unreachable')).toEqual([]);
    await page.context().close();
  });

  test('ops puts a covering doctor on call through the form and takes them off; both are in the trail, and a refused shift writes nothing', async () => {
    const page = await signedIn(OPS);
    await page.goto(`/ops/roster?clinicId=${clinic.clinicId}`);
    expect(await page.textContent('main')).toContain(n.noEntries);
    await page.selectOption('#role', 'covering');
    await page.selectOption('#practitionerId', clinic.practitionerId);
    await page.fill('#startsAt', '2099-01-01T08:00');
    await page.fill('#endsAt', '2099-01-02T08:00');
    // By keyboard: the add button is reachable by Tab from the last field.
    await page.focus('#endsAt');
    await tabTo(page, (el) => el.tag === 'button' && el.text === n.add);
    await page.keyboard.press('Enter');
    await page.waitForSelector('.alert.notice');
    expect(await page.textContent('.alert.notice')).toBe(n.added);
    const [entry, ...more] = await liveEntries();
    expect(more).toEqual([]);
    expect(entry).toMatchObject({ role: 'covering', department: '*', practitioner_id: clinic.practitionerId, created_by: OPS.id });
    // 08:00 on the clinic's clock (Moscow, UTC+3).
    expect(entry!.starts_at.toISOString()).toBe('2099-01-01T05:00:00.000Z');
    expect(await page.getAttribute(`table.roster tr[data-entry="${entry!.id}"]`, 'data-role')).toBe('covering');
    expect(await page.$(`table.roster-audit tr[data-entry="${entry!.id}"][data-action="roster-added"]`)).not.toBeNull();
    expect(await h.screen(page, 'ops-roster')).toEqual([]);

    // A shift that ends before it starts: the API's refusal at the field, 400, nothing written.
    await page.fill('#startsAt', '2099-02-01T08:00');
    await page.fill('#endsAt', '2099-01-31T08:00');
    const [refused] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/ops/roster'),
      page.click(`form.roster-add button[type="submit"]`),
    ]);
    expect(refused.status()).toBe(400);
    await page.waitForSelector('#endsAt[aria-invalid="true"]');
    expect(await page.textContent('#endsAt-error')).toBe(n.windowInvalid);
    expect(await liveEntries()).toHaveLength(1);
    expect(await h.screen(page, 'ops-roster-refused')).toEqual([]);

    // Another clinic's doctor (a tampered form): the API's practitioner_not_found, at the field, nothing written.
    const other = await makeClinic(h.engine.db);
    await page.fill('#endsAt', '2099-02-02T08:00');
    await page.evaluate(`document.querySelector('#practitionerId option:checked').value = ${JSON.stringify(other.practitionerId)}`);
    const [foreign] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/ops/roster'),
      page.click(`form.roster-add button[type="submit"]`),
    ]);
    expect(foreign.status()).toBe(400);
    await page.waitForSelector('#practitionerId[aria-invalid="true"]');
    expect(await page.textContent('#practitioner-error')).toBe(n.errors.practitioner_not_found);
    expect(await liveEntries()).toHaveLength(1);

    await page.click(`table.roster tr[data-entry="${entry!.id}"] button`);
    await page.waitForSelector(`.alert.notice:text("${n.removed}")`);
    expect(await liveEntries()).toHaveLength(0);
    expect(await page.$(`table.roster-audit tr[data-entry="${entry!.id}"][data-action="roster-removed"]`)).not.toBeNull();
    await page.context().close();
  });

  test('a doctor and a patient are refused the ops message pages', async () => {
    for (const caller of [
      { id: 'ops-notify-doctor', role: 'doctor', practitionerId: clinic.practitionerId },
      { id: `patient-${smsOnly}`, role: 'patient', patientId: smsOnly },
    ] as Caller[]) {
      const page = await signedIn(caller);
      for (const url of ['/ops/deliveries', '/ops/unreachable', `/ops/roster?clinicId=${clinic.clinicId}`]) {
        const res = await page.goto(url);
        expect(res?.status()).toBe(403);
        expect(await page.textContent('h1')).toBe(ru.forbiddenTitle);
      }
      await page.context().close();
    }
  });

  test("the doctor's visit page lists the appointment's notifications: the failed SMS and the hand-off to ops, with why", async () => {
    const page = await signedIn({ id: 'ops-notify-visit-doctor', role: 'doctor', practitionerId: clinic.practitionerId }, 'tablet');
    await page.goto(`/doctor/visits/${appointmentId}`);
    expect(await page.textContent('#deliveries-title')).toBe(n.deliveriesTitle);
    const rows = await page.$$eval('table.deliveries tbody tr', (trs) =>
      trs.map((tr) => [tr.getAttribute('data-channel'), tr.getAttribute('data-status')]),
    );
    expect(rows).toEqual([
      ['sms', 'failed'],
      ['ops', 'failed'],
    ]);
    const text = (await page.textContent('table.deliveries'))!;
    expect(text).toContain('Busy: the SMS gateway answered 500');
    expect(text).toContain(n.reasons['all-channels-failed']);
    expect(await h.screen(page, 'doctor-visit-deliveries')).toEqual([]);
    await page.context().close();
  });
});
