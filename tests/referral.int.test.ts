import { randomUUID } from 'node:crypto';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { sql } from 'kysely';
import { temporalAddress } from '../platform/temporal';
import { referralDeadline, referralPolicy } from '../db/referral';
import { createDb, migrateToLatest } from '../db';
import { DEMO_TIME_ZONE, demoId, seedDemoCity } from '../db/seed';
import { localToday } from '../domain/time';
import { createClinicalWorker } from '../workers/clinical';
import { startWorkerRelay, type OutboxRelay } from '../workers/outbox-relay';
import { createLogger } from '../platform/logger';
import { startOpenReferrals } from '../workers/referrals';
import { referralStatusQuery } from '../workflows/referral';
import { breachedKey, deadlineAtKey, processStatusKey } from '../workflows/search-attributes';
import { daysFromNow, makeClinic, makePatient, makeShortSlot, makeSlot, type TestClinic } from './fixtures';
import { eventually, jsonRequest, startTestEngine, type TestEngine } from './helpers';

let engine: TestEngine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(async () => {
  await engine.stop();
});

type Json = Record<string, any>;
type Policy = { waitSeconds: number; share?: number; acknowledgeSeconds?: number; noShowLimit?: number; urgency?: string };

async function call(
  e: TestEngine,
  method: string,
  path: string,
  token: string,
  body?: unknown,
  idempotencyKey?: string,
): Promise<{ status: number; body: Json }> {
  const init = jsonRequest(method, token, body);
  if (idempotencyKey) (init.headers as Record<string, string>)['idempotency-key'] = idempotencyKey;
  const res = await e.app.request(path, init);
  return { status: res.status, body: (await res.json()) as Json };
}
const doctor = (e: TestEngine, practitionerId: string) => e.token('doctor', { id: `doctor-${practitionerId}`, practitionerId });
/** The referring clinic's registrar (registrars act only for the clinic(s) on their token). */
const registrar = (e: TestEngine, clinicId: string) => e.token('registrar', { clinicId });

/** A clinic whose referrals wait seconds, not working days (referral_policies rows). */
async function referralClinic(e: TestEngine, policies: Policy[], booking: Parameters<typeof makeClinic>[1] = {}): Promise<TestClinic> {
  const clinic = await makeClinic(e.db, booking);
  for (const p of policies) {
    await e.db
      .insertInto('referral_policies')
      .values({
        clinic_id: clinic.clinicId,
        region: null,
        kind: 'specialist',
        urgency: (p.urgency ?? 'routine') as never,
        wait_working_days: null,
        wait_hours: null,
        wait_seconds: p.waitSeconds,
        escalation_share: p.share ?? 0.5,
        acknowledge_seconds: p.acknowledgeSeconds ?? 3600,
        no_show_limit: p.noShowLimit ?? 2,
        validity_days: 30,
      })
      .execute();
  }
  return clinic;
}

/** The clinic's second practitioner refers the patient to the first's specialty. */
async function refer(e: TestEngine, clinic: TestClinic, patientId: string, extra: Json = {}) {
  return call(
    e,
    'POST',
    '/referrals',
    await doctor(e, clinic.otherPractitionerId),
    {
      patientId,
      referringPractitionerId: clinic.otherPractitionerId,
      specialty: clinic.specialty,
      reason: 'chest pain on exertion',
      icd10: 'I20.8',
      ...extra,
    },
    `ref-${randomUUID()}`,
  );
}
const row = (e: TestEngine, id: string) => e.db.selectFrom('referrals').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const becomes = (e: TestEngine, id: string, status: string, ms = 30_000) =>
  eventually(async () => ((await row(e, id)).status === status ? row(e, id) : undefined), ms, `referral ${status}`);
const steps = async (e: TestEngine, id: string) =>
  (await e.db.selectFrom('referral_events').select('step').where('referral_id', '=', id).orderBy('at').orderBy('id').execute()).map(
    (r) => r.step,
  );

/** A referral booked with the clinic's specialist and checked in: awaiting the report. */
async function attendedReferral(e: TestEngine, clinic: TestClinic) {
  const patientId = await makePatient(e.db);
  const created = await refer(e, clinic, patientId);
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  const slot = await makeSlot(e.db, clinic, 3600);
  await becomes(e, id, 'offered');
  const booked = await call(e, 'POST', `/referrals/${id}/book`, await registrar(e, clinic.clinicId), { slotId: slot.id });
  expect(booked).toMatchObject({ status: 201, body: { status: 'booked', slotId: slot.id, practitionerId: clinic.practitionerId } });
  const checkIn = await call(e, 'POST', `/appointments/${booked.body.appointmentId}/check-in`, await registrar(e, clinic.clinicId));
  expect(checkIn.status).toBe(202);
  await becomes(e, id, 'attended');
  return { id, patientId, appointmentId: booked.body.appointmentId as string, slot };
}
const report = async (e: TestEngine, id: string, practitionerId: string, patientId: string) =>
  call(e, 'POST', `/referrals/${id}/report`, await doctor(e, practitionerId), {
    patientId,
    conclusion: 'Stable angina, CCS class II.',
    icd10: ['I20.8'],
    recommendations: 'Stress ECG; continue aspirin.',
  });

describe('a referral to a specialist', () => {
  test('is offered slots, booked, attended, reported on, acknowledged by the referring doctor and closed', async () => {
    const clinic = await referralClinic(engine, [{ waitSeconds: 7200 }]);
    const { id, patientId, appointmentId, slot } = await attendedReferral(engine, clinic);
    const offered = (await row(engine, id)).offered_slots as Json[];
    expect(offered).toEqual(
      expect.arrayContaining([expect.objectContaining({ slotId: slot.id, practitionerId: clinic.practitionerId, withinDeadline: true })]),
    );

    const reported = await report(engine, id, clinic.practitionerId, patientId);
    expect(reported).toMatchObject({ status: 200, body: { status: 'reported', fhir: { serviceRequest: 'active', task: 'in-progress' } } });
    const acknowledged = await call(engine, 'POST', `/referrals/${id}/acknowledge`, await doctor(engine, clinic.otherPractitionerId));
    expect(acknowledged).toMatchObject({
      status: 200,
      body: { status: 'closed', fhir: { serviceRequest: 'completed', task: 'completed' }, appointmentId, breached: false },
    });

    expect(await steps(engine, id)).toEqual([
      'created',
      'process-started',
      'offered',
      'booked',
      'attended',
      'reported',
      'acknowledged',
      'closed',
    ]);
    const r = await row(engine, id);
    expect(r.booked_at!.getTime()).toBeLessThanOrEqual(r.deadline_at.getTime());
    expect(r).toMatchObject({ acknowledged_by: `doctor-${clinic.otherPractitionerId}`, escalation_level: 0 });
    const detail = await call(engine, 'GET', `/referrals/${id}`, await registrar(engine, clinic.clinicId));
    expect(detail.body.timeline.map((t: Json) => t.step)).toContain('acknowledged');
    expect(detail.body.process).toMatchObject({ status: 'closed' });
    const mine = await call(
      engine,
      'GET',
      `/patients/${patientId}/referrals`,
      await engine.token('patient', { id: `p-${patientId}`, patientId }),
    );
    expect(mine.body.referrals.map((x: Json) => x.id)).toEqual([id]);
    const others = await call(
      engine,
      'GET',
      `/patients/${patientId}/referrals`,
      await engine.token('patient', { id: 'p-other', patientId: randomUUID() }),
    );
    expect(others.status).toBe(403);
  });

  test('is offered only slots of clinics that take bookings, not of a clinic still in preparation', async () => {
    const clinic = await referralClinic(engine, [{ waitSeconds: 7200 }]);
    const later = await makeSlot(engine.db, clinic, 2 * 86_400);
    // Another clinic with the same specialty and an earlier slot, still preparing to join.
    const preparing = await makeClinic(engine.db);
    await engine.db.updateTable('clinics').set({ rollout_stage: 'preparation' }).where('id', '=', preparing.clinicId).execute();
    const [cardiologist] = await engine.db
      .insertInto('practitioners')
      .values({ clinic_id: preparing.clinicId, full_name: 'Dr Early', specialty: clinic.specialty })
      .returning('id')
      .execute();
    const early = await makeSlot(engine.db, preparing, 3600, 20, cardiologist!.id);
    const created = await refer(engine, clinic, await makePatient(engine.db));
    const offered = (await becomes(engine, created.body.id as string, 'offered')).offered_slots as Json[];
    expect(offered.map((o) => o.slotId)).toContain(later.id);
    expect(offered.map((o) => o.slotId)).not.toContain(early.id);
  });

  test('a booking sent twice answers the same appointment; another slot then is refused, and nothing more is written', async () => {
    const clinic = await referralClinic(engine, [{ waitSeconds: 7200 }]);
    const patientId = await makePatient(engine.db);
    const created = await refer(engine, clinic, patientId);
    const id = created.body.id as string;
    const [slot, other] = [await makeSlot(engine.db, clinic, 3600), await makeSlot(engine.db, clinic, 7200)];
    await becomes(engine, id, 'offered');
    const desk = await registrar(engine, clinic.clinicId);
    const first = await call(engine, 'POST', `/referrals/${id}/book`, desk, { slotId: slot.id });
    expect(first).toMatchObject({ status: 201, body: { status: 'booked', slotId: slot.id } });
    const again = await call(engine, 'POST', `/referrals/${id}/book`, desk, { slotId: slot.id });
    expect(again).toEqual(first);
    const elsewhere = await call(engine, 'POST', `/referrals/${id}/book`, desk, { slotId: other.id });
    expect(elsewhere).toMatchObject({ status: 409, body: { error: { code: 'invalid_state' } } });
    const rows = await engine.db.selectFrom('appointments').select(['id', 'slot_id']).where('patient_id', '=', patientId).execute();
    expect(rows).toEqual([{ id: first.body.appointmentId, slot_id: slot.id }]);
    expect((await steps(engine, id)).filter((s) => s === 'booked')).toEqual(['booked']);
  });

  test('a report posted twice is recorded once; another practitioner or another patient is refused', async () => {
    const clinic = await referralClinic(engine, [{ waitSeconds: 600 }]);
    const { id, patientId } = await attendedReferral(engine, clinic);
    expect(await report(engine, id, clinic.otherPractitionerId, patientId)).toMatchObject({
      status: 403,
      body: { error: { code: 'wrong_practitioner' } },
    });
    expect(await report(engine, id, clinic.practitionerId, await makePatient(engine.db))).toMatchObject({
      status: 403,
      body: { error: { code: 'wrong_patient' } },
    });
    expect((await row(engine, id)).status).toBe('attended');
    expect((await report(engine, id, clinic.practitionerId, patientId)).status).toBe(200);
    expect((await report(engine, id, clinic.practitionerId, patientId)).status).toBe(200);
    expect(await engine.db.selectFrom('referral_reports').selectAll().where('referral_id', '=', id).execute()).toHaveLength(1);
    expect((await steps(engine, id)).filter((s) => s === 'reported')).toHaveLength(1);
    expect((await call(engine, 'POST', `/referrals/${id}/acknowledge`, await doctor(engine, clinic.practitionerId))).body.error.code).toBe(
      'wrong_practitioner',
    );
  });

  test('once reported, a report posted by another doctor is refused before the repeated update answers, and audited as refused', async () => {
    const clinic = await referralClinic(engine, [{ waitSeconds: 600 }]);
    const { id, patientId } = await attendedReferral(engine, clinic);
    expect((await report(engine, id, clinic.practitionerId, patientId)).status).toBe(200);
    const stranger = await makeClinic(engine.db);
    for (const practitionerId of [stranger.practitionerId, clinic.otherPractitionerId]) {
      const again = await report(engine, id, practitionerId, patientId);
      expect([again.status, again.body.error?.code]).toEqual([403, 'wrong_practitioner']);
      // Nothing of the referral in the answer.
      expect(JSON.stringify(again.body)).not.toContain(patientId);
    }
    const actor = `doctor-${stranger.practitionerId}`;
    const rows = await engine.db.selectFrom('audit_log').select(['action', 'outcome', 'details']).where('actor', '=', actor).execute();
    expect(rows).toEqual([
      expect.objectContaining({
        action: 'refused',
        outcome: 'refused',
        details: expect.objectContaining({ attempted: 'write', patientId }),
      }),
    ]);
    // The patient's access log shows the refusal as a refusal, never as a change.
    const own = await engine.token('patient', { patientId });
    const log = await call(engine, 'GET', `/patients/${patientId}/record/access-log?limit=200`, own);
    const theirs = (log.body.entries as Json[]).filter((e) => e.userId === actor);
    expect(theirs.map((e) => [e.action, e.outcome])).toEqual([['refused', 'refused']]);
  });

  test('a report nobody acknowledges brings a reminder, then the head of department; the acknowledgement still closes it', async () => {
    const clinic = await referralClinic(engine, [{ waitSeconds: 7200, acknowledgeSeconds: 2 }]);
    const { id, patientId } = await attendedReferral(engine, clinic);
    expect((await report(engine, id, clinic.practitionerId, patientId)).status).toBe(200);
    await eventually(
      async () => (await steps(engine, id)).includes('acknowledge-escalated-head-of-department'),
      30_000,
      'acknowledgement escalated',
    );
    const events = await engine.db
      .selectFrom('referral_events')
      .select(['step', 'at'])
      .where('referral_id', '=', id)
      .orderBy('at')
      .execute();
    const at = (step: string) => events.find((e) => e.step === step)!.at.getTime();
    expect(at('acknowledge-reminder')).toBeGreaterThanOrEqual(at('reported') + 2000);
    expect(at('acknowledge-escalated-head-of-department')).toBeGreaterThanOrEqual(at('reported') + 4000);
    expect((await call(engine, 'POST', `/referrals/${id}/acknowledge`, await doctor(engine, clinic.otherPractitionerId))).body.status).toBe(
      'closed',
    );
  });

  test('nobody books: the registrar queue puts it first at the policy share, then it breaches at the deadline and ops can find it', async () => {
    // A: 30 s wait, escalated after 1.5 s. B: a nearer deadline (25 s) but escalated only after 23.75 s.
    const clinic = await referralClinic(engine, [
      { waitSeconds: 30, share: 0.05 },
      { waitSeconds: 25, share: 0.95, urgency: 'urgent' },
    ]);
    const a = (await refer(engine, clinic, await makePatient(engine.db))).body;
    const b = (await refer(engine, clinic, await makePatient(engine.db), { urgency: 'urgent' })).body;
    expect(Date.parse(b.deadlineAt)).toBeLessThan(Date.parse(a.deadlineAt));
    await eventually(async () => (await row(engine, a.id)).escalation_level === 1, 30_000, 'escalated to the registrar queue');
    const queue = await call(engine, 'GET', `/referrals/queue?clinicId=${clinic.clinicId}`, await registrar(engine, clinic.clinicId));
    expect(queue.body.referrals.map((r: Json) => r.id)).toEqual([a.id, b.id]);

    const breached = await eventually(async () => ((await row(engine, a.id)).breached ? row(engine, a.id) : undefined), 60_000, 'breached');
    expect(breached).toMatchObject({ status: 'offered', escalation_level: 2, booked_at: null });
    expect(await steps(engine, a.id)).toEqual(
      expect.arrayContaining(['escalated-registrar-queue', 'breached-escalated-head-of-department']),
    );
    const events = await engine.db.selectFrom('referral_events').select(['step', 'at']).where('referral_id', '=', a.id).execute();
    const breachAt = events.find((ev) => ev.step === 'breached-escalated-head-of-department')!.at;
    expect(breachAt.getTime()).toBeGreaterThanOrEqual(Date.parse(a.deadlineAt));

    // The process upserts its search attributes once the step is written.
    const description = await eventually(
      async () => {
        const d = await engine.client.workflow.getHandle(`referral-${a.id}`).describe();
        return d.typedSearchAttributes.get(breachedKey) === true ? d : undefined;
      },
      30_000,
      'Breached search attribute',
    );
    expect(description.typedSearchAttributes.get(processStatusKey)).toBe('offered');
    expect(description.typedSearchAttributes.get(deadlineAtKey)?.toISOString()).toBe(a.deadlineAt);
    const found: string[] = [];
    await eventually(
      async () => {
        found.length = 0;
        for await (const wf of engine.client.workflow.list({
          query: `WorkflowType = 'referralWorkflow' AND ClinicId = '${clinic.clinicId}' AND Breached = true`,
        }))
          found.push(wf.workflowId);
        return found.length >= 1;
      },
      15_000,
      'listed as breached',
    );
    expect(found).toContain(`referral-${a.id}`);
    const listed = await call(
      engine,
      'GET',
      `/referrals?clinicId=${clinic.clinicId}&breached=true`,
      await registrar(engine, clinic.clinicId),
    );
    expect(listed.body.referrals.map((r: Json) => r.id)).toContain(a.id);
    for (const r of [a, b])
      expect(
        (await call(engine, 'POST', `/referrals/${r.id}/cancel`, await registrar(engine, clinic.clinicId), { reason: 'test over' })).status,
      ).toBe(200);
  });

  test('expires at the end of its validity when nobody books it', async () => {
    const clinic = await referralClinic(engine, [{ waitSeconds: 600 }]);
    const { body } = await refer(engine, clinic, await makePatient(engine.db), { validUntil: new Date(Date.now() + 5000).toISOString() });
    const expired = await becomes(engine, body.id, 'expired');
    expect(expired.closed_at).not.toBeNull();
    const slot = await makeSlot(engine.db, clinic, daysFromNow(2));
    expect(
      await call(engine, 'POST', `/referrals/${body.id}/book`, await registrar(engine, clinic.clinicId), { slotId: slot.id }),
    ).toMatchObject({ status: 409, body: { error: { code: 'invalid_state' } } });
  });

  test('a no-show at the specialist sends it back to offering, and it is booked again', async () => {
    const clinic = await referralClinic(engine, [{ waitSeconds: 600, noShowLimit: 2 }], { policy: { noShowGraceSeconds: 1 } });
    const patientId = await makePatient(engine.db);
    const { body } = await refer(engine, clinic, patientId);
    await becomes(engine, body.id, 'offered');
    const soon = await makeShortSlot(engine.db, clinic, 15, 3);
    const first = await call(engine, 'POST', `/referrals/${body.id}/book`, await registrar(engine, clinic.clinicId), { slotId: soon.id });
    expect(first.status).toBe(201);
    await eventually(async () => (await row(engine, body.id)).no_shows === 1, 40_000, 'no-show recorded');
    const back = await becomes(engine, body.id, 'offered');
    expect(back.appointment_id).toBeNull();
    expect(
      (await engine.db.selectFrom('appointments').select('status').where('id', '=', first.body.appointmentId).executeTakeFirstOrThrow())
        .status,
    ).toBe('noshow');

    // The row says offered once the activity commits; the process takes the step right after it.
    await eventually(
      async () =>
        (await call(engine, 'GET', `/referrals/${body.id}`, await registrar(engine, clinic.clinicId))).body.process?.status === 'offered',
      30_000,
      'process offering again',
    );
    const later = await makeSlot(engine.db, clinic, daysFromNow(3));
    const second = await call(engine, 'POST', `/referrals/${body.id}/book`, await registrar(engine, clinic.clinicId), { slotId: later.id });
    expect(second).toMatchObject({ status: 201, body: { slotId: later.id } });
    expect(await row(engine, body.id)).toMatchObject({ status: 'booked', appointment_id: second.body.appointmentId, no_shows: 1 });
    expect(await steps(engine, body.id)).toEqual(['created', 'process-started', 'offered', 'booked', 'no-show', 'offered', 'booked']);
  });

  test('cancelled by the referring doctor, it releases its booking: the appointment is cancelled and the slot free again', async () => {
    const clinic = await referralClinic(engine, [{ waitSeconds: 600 }]);
    const { body } = await refer(engine, clinic, await makePatient(engine.db));
    await becomes(engine, body.id, 'offered');
    const slot = await makeSlot(engine.db, clinic, daysFromNow(4));
    const booked = await call(engine, 'POST', `/referrals/${body.id}/book`, await registrar(engine, clinic.clinicId), { slotId: slot.id });
    const referrer = await doctor(engine, clinic.otherPractitionerId);
    expect((await call(engine, 'POST', `/referrals/${body.id}/cancel`, referrer, {})).status).toBe(400);
    expect(
      (await call(engine, 'POST', `/referrals/${body.id}/cancel`, await doctor(engine, clinic.practitionerId), { reason: 'x' })).status,
    ).toBe(403);
    const cancelled = await call(engine, 'POST', `/referrals/${body.id}/cancel`, referrer, { reason: 'symptoms resolved' });
    expect(cancelled).toMatchObject({
      status: 200,
      body: { status: 'cancelled', cancelReason: 'symptoms resolved', fhir: { serviceRequest: 'revoked', task: 'cancelled' } },
    });
    await eventually(
      async () =>
        (await engine.db.selectFrom('appointments').select('status').where('id', '=', booked.body.appointmentId).executeTakeFirstOrThrow())
          .status === 'cancelled',
      30_000,
      'appointment cancelled',
    );
    const date = slot.startsAt.toISOString().slice(0, 10);
    const free = await call(
      engine,
      'GET',
      `/slots?from=${date}&to=${date}&practitionerId=${clinic.practitionerId}`,
      await registrar(engine, clinic.clinicId),
    );
    expect(free.body.slots.map((s: Json) => s.id)).toContain(slot.id);
  });

  test('a booking made through the booking API for the referral is adopted; the patient cancelling it sends the referral back to offering', async () => {
    const clinic = await referralClinic(engine, [{ waitSeconds: 600 }]);
    const patientId = await makePatient(engine.db);
    const { body } = await refer(engine, clinic, patientId);
    await becomes(engine, body.id, 'offered');
    const slot = await makeSlot(engine.db, clinic, daysFromNow(5));
    const wrong = await makeSlot(engine.db, clinic, daysFromNow(5, 11), 20, clinic.otherPractitionerId);
    const reg = await registrar(engine, clinic.clinicId);
    expect(
      (await call(engine, 'POST', '/appointments', reg, { slotId: wrong.id, patientId, referralId: body.id }, `k-${randomUUID()}`)).body
        .error.code,
    ).toBe('wrong_practitioner');
    const held = await call(engine, 'POST', '/appointments', reg, { slotId: slot.id, patientId, referralId: body.id }, `k-${randomUUID()}`);
    expect(held.status).toBe(201);
    expect((await call(engine, 'POST', `/appointments/${held.body.id}/confirm`, reg)).status).toBe(200);
    expect(await becomes(engine, body.id, 'booked')).toMatchObject({ appointment_id: held.body.id });

    const patient = await engine.token('patient', { id: `p-${patientId}`, patientId });
    expect((await call(engine, 'POST', `/appointments/${held.body.id}/cancel`, patient, { reason: 'cannot come' })).status).toBe(200);
    expect(await becomes(engine, body.id, 'offered')).toMatchObject({ appointment_id: null });
    // Offered again: a fresh search recorded as its own step.
    await eventually(async () => (await steps(engine, body.id)).length === 7, 30_000, 'offered again');
    expect(await steps(engine, body.id)).toEqual([
      'created',
      'process-started',
      'offered',
      'booking-adopted',
      'booked',
      'booking-cancelled',
      'offered',
    ]);
  });

  test('bad input is refused with its code and nothing is written', async () => {
    const clinic = await referralClinic(engine, [{ waitSeconds: 600 }]);
    const patientId = await makePatient(engine.db);
    expect((await refer(engine, clinic, patientId, { icd10: 'chest pain' })).body.error.code).toBe('invalid_icd10');
    expect((await refer(engine, clinic, patientId, { validUntil: '2020-01-01T00:00:00Z' })).body.error.code).toBe('validity_in_past');
    expect((await refer(engine, clinic, patientId, { specialty: 'astrology' })).body.error.code).toBe('unknown_specialty');
    expect((await refer(engine, clinic, patientId, { targetPractitionerId: clinic.otherPractitionerId })).body.error.code).toBe(
      'wrong_practitioner',
    );
    const notMe = await call(
      engine,
      'POST',
      '/referrals',
      await doctor(engine, clinic.practitionerId),
      { patientId, referringPractitionerId: clinic.otherPractitionerId, specialty: clinic.specialty, reason: 'x', icd10: 'I10' },
      `ref-${randomUUID()}`,
    );
    expect(notMe).toMatchObject({ status: 422, body: { error: { code: 'wrong_practitioner' } } });
    expect(await engine.db.selectFrom('referrals').select('id').where('patient_id', '=', patientId).execute()).toEqual([]);
  });

  test('a retried request with the same Idempotency-Key returns the same referral and starts one process', async () => {
    const clinic = await referralClinic(engine, [{ waitSeconds: 600 }]);
    const patientId = await makePatient(engine.db);
    const token = await doctor(engine, clinic.otherPractitionerId);
    const b = { patientId, referringPractitionerId: clinic.otherPractitionerId, specialty: clinic.specialty, reason: 'x', icd10: 'I10' };
    const [one, two] = await Promise.all([
      call(engine, 'POST', '/referrals', token, b, 'same-ref-key-1'),
      call(engine, 'POST', '/referrals', token, b, 'same-ref-key-1'),
    ]);
    expect([one.status, two.status]).toEqual([201, 201]);
    expect(two.body.id).toBe(one.body.id);
    expect(await engine.db.selectFrom('referrals').select('id').where('patient_id', '=', patientId).execute()).toHaveLength(1);
    await becomes(engine, one.body.id, 'offered');
    expect((await steps(engine, one.body.id)).filter((s) => s === 'process-started')).toHaveLength(1);
  });
});

describe('waiting-time policy and calendar', () => {
  test("a clinic's own policy wins over its region's, the region's over the defaults; its closures move the deadline", async () => {
    const clinic = await makeClinic(engine.db);
    const region = `RU-T${randomUUID().slice(0, 6)}`;
    expect((await referralPolicy(engine.db, clinic.clinicId, 'specialist', 'routine')).wait).toEqual({ workingDays: 14 });
    await engine.db.insertInto('clinic_calendars').values({ clinic_id: clinic.clinicId, country: 'RU', region }).execute();
    const row = {
      kind: 'specialist' as const,
      urgency: 'routine' as const,
      wait_hours: null,
      wait_seconds: null,
      acknowledge_seconds: 86_400,
      no_show_limit: 2,
      validity_days: 30,
    };
    await engine.db
      .insertInto('referral_policies')
      .values({ ...row, clinic_id: null, region, wait_working_days: 10 })
      .execute();
    expect((await referralPolicy(engine.db, clinic.clinicId, 'specialist', 'routine')).wait).toEqual({ workingDays: 10 });
    await engine.db
      .insertInto('referral_policies')
      .values({ ...row, clinic_id: clinic.clinicId, region: null, wait_working_days: 7 })
      .execute();
    const policy = await referralPolicy(engine.db, clinic.clinicId, 'specialist', 'routine');
    expect(policy.wait).toEqual({ workingDays: 7 });

    // Friday 30 Oct 2026 in Moscow: 7 working days (4 Nov is a holiday) end on Wed 11 Nov; closed on 5 Nov, on Thu 12 Nov.
    const start = new Date('2026-10-30T12:00:00Z');
    expect((await referralDeadline(engine.db, clinic.clinicId, start, policy)).toISOString()).toBe('2026-11-11T21:00:00.000Z');
    await engine.db
      .insertInto('clinic_closures')
      .values({ clinic_id: clinic.clinicId, closed_on: '2026-11-05', reason: 'sanitary day' })
      .execute();
    expect((await referralDeadline(engine.db, clinic.clinicId, start, policy)).toISOString()).toBe('2026-11-12T21:00:00.000Z');
  });
});

describe("the demo city's referrals", () => {
  test('get their processes when a clinical worker starts: the registrar queue shows the breached one first', async () => {
    expect(await startOpenReferrals(engine.client, engine.db, engine.config.CLINICAL_TASK_QUEUE)).toBeGreaterThanOrEqual(6);
    await startOpenReferrals(engine.client, engine.db, engine.config.CLINICAL_TASK_QUEUE); // a second start changes nothing
    const [fresh, escalated, breached] = [demoId('referral:1'), demoId('referral:3'), demoId('referral:4')];
    await eventually(
      async () => (await row(engine, breached)).breached && (await row(engine, escalated)).escalation_level === 1,
      30_000,
      'demo escalations',
    );
    const queue = await call(
      engine,
      'GET',
      `/referrals/queue?clinicId=${demoId('clinic:PC-01')}`,
      await registrar(engine, demoId('clinic:PC-01')),
    );
    expect(queue.body.referrals.map((r: Json) => r.id).slice(0, 2)).toEqual([breached, escalated]);
    expect(queue.body.referrals.map((r: Json) => r.id)).toContain(fresh);
    expect((await steps(engine, fresh)).filter((s) => s === 'process-started')).toHaveLength(1);
  });

  test('the share booked within the deadline that docs/referral.md reports: 2 of 5, on a demo city of its own', async () => {
    // A database of its own: in the run's shared one, other suites book the demo queue's referrals.
    const dbName = `referral_figure_${randomUUID().slice(0, 8)}`;
    await sql.raw(`CREATE DATABASE ${dbName}`).execute(engine.db);
    const url = new URL(engine.config.DATABASE_URL!);
    url.pathname = `/${dbName}`;
    const db = createDb(url.toString(), 2);
    try {
      await migrateToLatest(db);
      await seedDemoCity(db, { today: localToday(DEMO_TIME_ZONE), slotDays: 2 });
      // Among the seeded referrals whose outcome is known (booked, or unbooked past the deadline).
      const { rows } = await sql<{ within: number; decided: number }>`
        SELECT count(*) FILTER (WHERE booked_at IS NOT NULL AND booked_at <= deadline_at)::int AS within,
               count(*) FILTER (WHERE booked_at IS NOT NULL OR deadline_at < now())::int AS decided
        FROM referrals WHERE created_by = 'demo-seed'`.execute(db);
      expect(rows[0]).toEqual({ within: 2, decided: 5 });
    } finally {
      await db.destroy();
      await sql
        .raw(`DROP DATABASE IF EXISTS ${dbName}`)
        .execute(engine.db)
        .catch(() => undefined);
    }
  }, 120_000);
});

describe('the clinical worker restarted mid-referral', () => {
  let own: TestEngine;
  let connection: NativeConnection;
  const startWorker = async () => {
    const worker = await createClinicalWorker({
      connection,
      config: own.config,
      db: own.db,
      workflowBundle: { codePath: process.env.WORKFLOW_BUNDLE_PATH! },
    });
    // The clinical worker drains the outbox beside its workflows (the check-in reaches the booking that way).
    const relay = startWorkerRelay({
      connection,
      config: own.config,
      db: own.db,
      databaseUrl: own.config.DATABASE_URL!,
      logger: createLogger('test', 'silent'),
    });
    current = { worker, running: worker.run(), relay };
    return current;
  };
  let current: { worker: Worker; running: Promise<void>; relay?: OutboxRelay } | undefined;
  const stopWorker = async (w: { worker: Worker; running: Promise<void>; relay?: OutboxRelay }) => {
    await w.relay?.stop();
    if (w.worker.getState() === 'RUNNING') w.worker.shutdown();
    await w.running;
  };
  beforeAll(async () => {
    own = await startTestEngine({ clinicalWorker: false });
    connection = await NativeConnection.connect({ address: temporalAddress(own.config) });
  });
  afterAll(async () => {
    if (current) await stopWorker(current);
    await connection.close();
    await own.stop();
  });

  test('loses nothing: the referral goes on to closed with every step recorded once', async () => {
    const clinic = await referralClinic(own, [{ waitSeconds: 600 }]);
    let w = await startWorker();
    const { id, patientId } = await attendedReferral(own, clinic);
    await stopWorker(w);
    // While no worker runs, the specialist's report waits in the server for one.
    const pending = report(own, id, clinic.practitionerId, patientId);
    await new Promise((r) => setTimeout(r, 1000));
    w = await startWorker();
    expect((await pending).status).toBe(200);
    expect((await call(own, 'POST', `/referrals/${id}/acknowledge`, await doctor(own, clinic.otherPractitionerId))).body.status).toBe(
      'closed',
    );
    expect(await steps(own, id)).toEqual([
      'created',
      'process-started',
      'offered',
      'booked',
      'attended',
      'reported',
      'acknowledged',
      'closed',
    ]);
    expect(await own.client.workflow.getHandle(`referral-${id}`).query(referralStatusQuery)).toMatchObject({
      status: 'closed',
      noShows: 0,
    });
    await stopWorker(w);
  });
});
