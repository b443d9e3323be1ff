/**
 * The lab bench and the doctor's tablet in a real browser against the real engine: the lab enters a
 * critical potassium in the form (a non-number refused at its field), the doctor's open inbox shows
 * it without a reload, a wrong read-back is refused at the field, the right one acknowledges, and the
 * lab sees it acknowledged; an HL7 message naming another patient is refused (AE) and waits in the
 * unmatched queue; break-the-glass with a reason, seen by the patient in their access log. Every
 * staff screen at 360 and 1024 px with axe-core: no serious or critical violation.
 */
import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import type { Caller } from '../api/auth';
import { ru } from '../web/i18n/ru';
import { makePatient, makeReferralClinic, makeSlot, type TestClinic } from './fixtures';
import { eventually, jsonRequest } from './helpers';
import { labApi, makeLabClinic, makeLabPatient, oru, type LabClinic } from './lab-fixtures';
import { startWebHarness, tabTo, type WebHarness } from './web/harness';

jest.setTimeout(300_000);
let h: WebHarness;
beforeAll(async () => {
  h = await startWebHarness();
});
afterAll(async () => {
  await h?.stop();
});

const labCaller = (clinic: LabClinic): Caller => ({
  id: `lab-${clinic.clinicId.slice(0, 8)}`,
  role: 'lab',
  clinicId: clinic.clinicId,
  clinicIds: [clinic.clinicId],
});
const doctorCaller = (clinic: LabClinic): Caller => ({
  id: `dr-${clinic.doctorId.slice(0, 8)}`,
  role: 'doctor',
  practitionerId: clinic.doctorId,
});

async function pageAs(caller: Caller): Promise<Page> {
  const context = await h.newContext('tablet');
  await h.signInAs(context, caller);
  return context.newPage();
}
const orderRow = (id: string) => h.engine.db.selectFrom('lab_orders').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

describe("a critical potassium from the lab bench to the doctor's tablet", () => {
  test('the lab enters it, the open inbox shows it without a reload, a wrong read-back is refused at the field, the right one acknowledges, the lab sees it', async () => {
    const clinic = await makeLabClinic(h.engine.db);
    const api = labApi(h.engine, clinic);
    const patientId = await makeLabPatient(h.engine.db);
    const created = await api.order(patientId, ['2823-3'], 'stat');
    expect(created.status).toBe(201);
    const orderId = created.body.id as string;

    // The doctor's inbox is open before the results exist.
    const doctor = await pageAs(doctorCaller(clinic));
    await doctor.goto('/doctor/inbox');
    expect(await doctor.locator(`[data-order="${orderId}"]`).count()).toBe(0);
    await doctor.evaluate('window.__sameDocument = true');

    // The lab: worklist → the order, by keyboard; collect, receive.
    const lab = await pageAs(labCaller(clinic));
    await lab.goto('/lab');
    expect(await lab.locator(`tr[data-order="${orderId}"]`).getAttribute('data-status')).toBe('ordered');
    expect(await h.screen(lab, 'lab-worklist')).toEqual([]);
    await tabTo(lab, (el) => el.href === `/lab/orders/${orderId}`);
    await lab.keyboard.press('Enter');
    await lab.waitForURL((u) => u.pathname === `/lab/orders/${orderId}`);
    await lab.fill('#barcode', 'no');
    await lab.click('form[action$="/collect"] button[type=submit]');
    await lab.waitForSelector('#barcode[aria-invalid="true"]');
    expect(await lab.textContent('#barcode-error')).toBe(ru.lab.barcodeHelp);
    expect((await orderRow(orderId)).status).toBe('ordered');
    await lab.fill('#barcode', `BC-${orderId.slice(0, 8)}`);
    await lab.click('form[action$="/collect"] button[type=submit]');
    await lab.waitForSelector('dd.status[data-status="collected"]');
    await lab.click('form[action$="/receive"] button[type=submit]');
    await lab.waitForSelector('dd.status[data-status="received"]');

    // A value that is not a number is refused at its field; nothing is recorded.
    await lab.fill('#v-2823-3', 'шесть');
    await lab.click('form.results button[type=submit]');
    await lab.waitForSelector('#v-2823-3[aria-invalid="true"]');
    expect(await lab.textContent('#v-2823-3-error')).toBe(ru.lab.errors.not_finite);
    expect(await h.screen(lab, 'lab-results-field-error')).toEqual([]);
    expect(await h.engine.db.selectFrom('lab_result_versions').select('id').where('lab_order_id', '=', orderId).execute()).toEqual([]);

    await lab.fill('#v-2823-3', '6,9');
    await lab.selectOption('#u-2823-3', 'mmol/L');
    await lab.click('form.results button[type=submit]');
    await lab.waitForSelector('[data-critical-pending="true"]');
    expect(await orderRow(orderId)).toMatchObject({ status: 'final', critical_pending: true });
    expect(await h.screen(lab, 'lab-order-critical')).toEqual([]);

    // The lab's list of critical values waiting for read-back names it.
    await lab.goto('/lab/critical');
    expect(await lab.textContent(`[data-critical-order="${orderId}"]`)).toContain('6.9');
    expect(await h.screen(lab, 'lab-critical')).toEqual([]);

    // The doctor's open page shows it without a reload.
    await doctor.waitForSelector(`section[data-order="${orderId}"][data-critical="true"]`, { timeout: 30_000 });
    expect(await doctor.evaluate('window.__sameDocument === true')).toBe(true);
    expect(await doctor.textContent(`section[data-order="${orderId}"] tr[data-loinc="2823-3"]`)).toContain(ru.flags.HH);
    // The CDS cards on the final results land after them: they too appear in place.
    await doctor.waitForSelector(`section[data-order="${orderId}"] ul.cds-cards li.indicator-critical`, { timeout: 60_000 });
    expect(await doctor.evaluate('window.__sameDocument === true')).toBe(true);
    expect(await h.screen(doctor, 'doctor-inbox')).toEqual([]);

    // A wrong read-back is refused at its field; the order still waits.
    const section = `section[data-order="${orderId}"]`;
    await doctor.fill(`${section} input[name="value:2823-3"]`, '6.0');
    await doctor.fill(`${section} input[name="unit:2823-3"]`, 'mmol/L');
    await doctor.click(`${section} form.acknowledge button[type=submit]`);
    await doctor.waitForSelector(`${section} input[name="value:2823-3"][aria-invalid="true"]`);
    expect(await doctor.textContent(`${section} [data-read-back="2823-3"] .field-error`)).toBe(ru.doctor2.errors.read_back_mismatch);
    expect(await h.screen(doctor, 'doctor-inbox-read-back-refused')).toEqual([]);
    expect(await orderRow(orderId)).toMatchObject({ status: 'final', critical_pending: true, acknowledged_at: null });

    // The right read-back (value and unit as the lab gave them), by keyboard to the button.
    await doctor.fill(`${section} input[name="value:2823-3"]`, '6.9');
    await doctor.fill(`${section} input[name="unit:2823-3"]`, 'mmol/L');
    await doctor.focus(`${section} input[name="unit:2823-3"]`);
    await tabTo(doctor, (el) => el.tag === 'button' && el.text === ru.doctor2.acknowledge);
    await doctor.keyboard.press('Enter');
    await doctor.waitForSelector('.alert.notice');
    expect(await doctor.textContent('.alert.notice')).toBe(ru.doctor2.acknowledged);
    expect(await doctor.locator(section).count()).toBe(0);
    expect(await orderRow(orderId)).toMatchObject({ status: 'acknowledged', critical_pending: false });
    const ack = await h.engine.db
      .selectFrom('lab_acknowledgements')
      .selectAll()
      .where('lab_order_id', '=', orderId)
      .executeTakeFirstOrThrow();
    expect(ack).toMatchObject({
      practitioner_id: clinic.doctorId,
      critical: true,
      read_back: [{ loinc: '2823-3', value: 6.9, unit: 'mmol/L' }],
    });

    // The lab sees it acknowledged, and gone from the waiting list.
    await lab.goto(`/lab/orders/${orderId}`);
    await lab.waitForSelector('[data-acknowledged]');
    expect(await lab.getAttribute('dd.status', 'data-status')).toBe('acknowledged');
    expect(await h.screen(lab, 'lab-order-acknowledged')).toEqual([]);
    await lab.goto('/lab/critical');
    expect(await lab.locator(`[data-critical-order="${orderId}"]`).count()).toBe(0);

    // The record shows the result with its flag and the acknowledged critical event, on one timeline.
    await doctor.goto(`/doctor/patients/${patientId}`);
    expect(await doctor.locator('li[data-kind="lab-report"] li[data-flag="HH"]').count()).toBe(1);
    expect(await doctor.locator('li[data-kind="critical-event"]').count()).toBeGreaterThanOrEqual(1);
    expect(await h.screen(doctor, 'doctor-record')).toEqual([]);
  });
});

describe('lab messages on the bench', () => {
  test('an uploaded message naming another patient is refused (AE), files nothing, and waits in the unmatched queue', async () => {
    const clinic = await makeLabClinic(h.engine.db);
    const api = labApi(h.engine, clinic);
    const patientId = await makeLabPatient(h.engine.db);
    const other = await makeLabPatient(h.engine.db);
    const created = await api.order(patientId, ['2823-3'], 'stat');
    await api.collectAndReceive(created.body.id);
    const control = `WEB-${randomUUID().slice(0, 8)}`;
    const message = oru(created.body.id, ['NM|2823-3^Potassium^LN||4.4|mmol/L|3.5-5.1|N|||F'], control, other).replace(/\r/g, '\n');

    const lab = await pageAs(labCaller(clinic));
    await lab.goto('/lab/messages');
    expect(await h.screen(lab, 'lab-upload')).toEqual([]);
    await lab.fill('#message', message);
    await lab.click('form[action="/lab/messages"] button[type=submit]');
    await lab.waitForSelector('[data-ack-code]');
    expect(await lab.getAttribute('[data-ack-code]', 'data-ack-code')).toBe('AE');
    expect(await lab.textContent('pre.hl7')).toContain('MSA|AE');
    expect(await h.screen(lab, 'lab-upload-ack')).toEqual([]);
    const stored = await h.engine.db
      .selectFrom('lab_messages')
      .select(['status', 'ack_code'])
      .where('control_id', '=', control)
      .executeTakeFirstOrThrow();
    expect(stored).toEqual({ status: 'unmatched', ack_code: 'AE' });
    expect(await h.engine.db.selectFrom('lab_result_versions').select('id').where('lab_order_id', '=', created.body.id).execute()).toEqual(
      [],
    );

    await lab.click('a[href="/lab/unmatched"] >> nth=-1');
    await lab.waitForURL((u) => u.pathname === '/lab/unmatched');
    const item = lab.locator(`li[data-control-id="${control}"]`);
    expect(await item.textContent()).toContain(ru.lab.unmatchedReasons.patient_mismatch);
    expect(await h.screen(lab, 'lab-unmatched')).toEqual([]);

    // Another clinic's lab does not see it.
    const stranger = await pageAs(labCaller(await makeLabClinic(h.engine.db)));
    await stranger.goto('/lab/unmatched');
    expect(await stranger.locator(`li[data-control-id="${control}"]`).count()).toBe(0);

    // The lab rejects it with a reason: it leaves the queue, nothing is filed.
    await item.locator('select[name="reason"]').selectOption('wrong_patient');
    await item.locator('button[type=submit]').click();
    await lab.waitForSelector('.alert.notice');
    expect(await lab.locator(`li[data-control-id="${control}"]`).count()).toBe(0);
    expect(
      await h.engine.db
        .selectFrom('lab_messages')
        .select(['status', 'resolution', 'resolution_reason'])
        .where('control_id', '=', control)
        .executeTakeFirstOrThrow(),
    ).toEqual({ status: 'rejected', resolution: 'rejected', resolution_reason: 'wrong_patient' });
  });
});

describe('break the glass', () => {
  test("the doctor is refused another clinic's patient, states a reason, reads the record, and the patient sees it in their access log", async () => {
    const clinic = await makeLabClinic(h.engine.db);
    const stranger = await makeLabPatient(h.engine.db);
    const doctor = await pageAs(doctorCaller(clinic));
    const refused = await doctor.goto(`/doctor/patients/${stranger}`);
    expect(refused?.status()).toBe(403);
    expect(await doctor.textContent('.alert.error')).toBe(ru.doctor2.errors.no_care_relationship);
    expect(await h.screen(doctor, 'doctor-break-glass')).toEqual([]);

    await doctor.fill('#reason', 'коротко');
    await doctor.click('form.break-glass button[type=submit]');
    await doctor.waitForSelector('#reason[aria-invalid="true"]');
    expect(await doctor.textContent('#reason-error')).toBe(ru.doctor2.breakGlassShort);

    const reason = 'Без сознания в приёмном отделении, родственников нет';
    await doctor.fill('#reason', reason);
    await doctor.click('form.break-glass button[type=submit]');
    await doctor.waitForSelector('.alert.notice');
    expect(await doctor.textContent('.alert.notice')).toBe(ru.doctor2.breakGlassShown);
    const audit = await eventually(
      async () =>
        h.engine.db
          .selectFrom('audit_log')
          .selectAll()
          .where('action', '=', 'break-the-glass')
          .where('actor', '=', doctorCaller(clinic).id)
          .executeTakeFirst(),
      10_000,
      'audit row',
    );
    expect(audit).toMatchObject({ outcome: 'allowed', entity: 'PatientRecord', entity_id: stranger });

    // The grant covered that one request: the next visit is refused again.
    expect((await doctor.goto(`/doctor/patients/${stranger}`))?.status()).toBe(403);

    const patient = await pageAs({ id: `patient-${stranger.slice(0, 8)}`, role: 'patient', patientId: stranger });
    await patient.goto(`/records/${stranger}/access-log`);
    const row = patient.locator('tr[data-action="break-the-glass"]');
    expect(await row.count()).toBe(1);
    expect(await row.textContent()).toContain(reason);
  });
});

describe("a referral on the doctor's tablet", () => {
  async function call(method: string, url: string, token: string, body?: unknown) {
    const init = jsonRequest(method, token, body);
    (init.headers as Record<string, string>)['idempotency-key'] = `web-${randomUUID()}`;
    const res = await h.engine.app.request(url, init);
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  }
  const referral = (id: string) => h.engine.db.selectFrom('referrals').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const becomes = (id: string, status: string) =>
    eventually(async () => (await referral(id)).status === status, 30_000, `referral ${status}`);
  const asDoctor = (practitionerId: string): Caller => ({ id: `dr-${practitionerId.slice(0, 8)}`, role: 'doctor', practitionerId });

  /** The clinic's (makeReferralClinic) second doctor refers a patient to the first; booked and checked in through the JSON API. */
  async function attended(clinic: TestClinic) {
    const patientId = await makePatient(h.engine.db);
    const referrer = await h.engine.token('doctor', {
      id: `dr-${clinic.otherPractitionerId.slice(0, 8)}`,
      practitionerId: clinic.otherPractitionerId,
    });
    const created = await call('POST', '/referrals', referrer, {
      patientId,
      referringPractitionerId: clinic.otherPractitionerId,
      specialty: clinic.specialty,
      reason: 'боль в груди при нагрузке',
      icd10: 'I20.8',
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const slot = await makeSlot(h.engine.db, clinic, 3600);
    await becomes(id, 'offered');
    const registrar = await h.engine.token('registrar', { clinicId: clinic.clinicId });
    const booked = await call('POST', `/referrals/${id}/book`, registrar, { slotId: slot.id });
    expect(booked.status).toBe(201);
    expect((await call('POST', `/appointments/${booked.body.appointmentId}/check-in`, registrar)).status).toBe(202);
    await becomes(id, 'attended');
    return id;
  }

  test('the specialist writes the report (a bad ICD-10 code refused at the field), the referring doctor acknowledges it and the referral closes', async () => {
    const clinic = await makeReferralClinic(h.engine.db);
    const id = await attended(clinic);

    const specialist = await pageAs(asDoctor(clinic.practitionerId));
    await specialist.goto('/doctor/inbox');
    expect(await specialist.textContent(`li[data-referral="${id}"]`)).toContain(ru.doctor2.toReport);
    await specialist.click(`li[data-referral="${id}"] a`);
    await specialist.waitForURL((u) => u.pathname === `/doctor/referrals/${id}`);
    await specialist.fill('#conclusion', 'Стабильная стенокардия, ФК II.');
    await specialist.fill('#icd10', 'XX');
    await specialist.fill('#recommendations', 'ЭКГ с нагрузкой.');
    await specialist.click('form[action$="/report"] button[type=submit]');
    await specialist.waitForSelector('#icd10[aria-invalid="true"]');
    expect(await specialist.textContent('#icd10-error')).toBe(ru.errors.invalid_icd10);
    expect(await h.screen(specialist, 'doctor-referral-report')).toEqual([]);
    expect(await h.engine.db.selectFrom('referral_reports').select('referral_id').where('referral_id', '=', id).execute()).toEqual([]);

    await specialist.fill('#icd10', 'I20.8');
    await specialist.click('form[action$="/report"] button[type=submit]');
    await specialist.waitForSelector('.alert.notice');
    expect(await specialist.textContent('.alert.notice')).toBe(ru.doctor2.reportPosted);
    expect(
      await h.engine.db
        .selectFrom('referral_reports')
        .select(['practitioner_id', 'icd10'])
        .where('referral_id', '=', id)
        .executeTakeFirstOrThrow(),
    ).toEqual({ practitioner_id: clinic.practitionerId, icd10: ['I20.8'] });
    await becomes(id, 'reported');

    const referrer = await pageAs(asDoctor(clinic.otherPractitionerId));
    await referrer.goto('/doctor/inbox');
    expect(await referrer.textContent(`li[data-referral="${id}"]`)).toContain(ru.doctor2.toAcknowledge);
    await referrer.goto(`/doctor/referrals/${id}`);
    expect(await referrer.textContent('section.report')).toContain('Стабильная стенокардия');
    expect(await h.screen(referrer, 'doctor-referral-acknowledge')).toEqual([]);
    await referrer.click('form[action$="/acknowledge"] button[type=submit]');
    await referrer.waitForSelector('.alert.notice');
    expect(await referrer.textContent('.alert.notice')).toBe(ru.doctor2.reportAcknowledged);
    await becomes(id, 'closed');
    expect((await referral(id)).acknowledged_at).not.toBeNull();
  });
});
