import { randomUUID } from 'node:crypto';
import { daysFromNow, makeClinic, makeSlot } from './fixtures';
import { startTestEngine, type TestEngine } from './helpers';
import { call, makeRecordWorld, type Json, type RecordWorld } from './record-fixtures';

let engine: TestEngine;
let world: RecordWorld;
beforeAll(async () => {
  engine = await startTestEngine();
  world = await makeRecordWorld(engine);
});
afterAll(async () => {
  await engine.stop();
});

const REASON = 'Unconscious in A&E, no relationship on file';

describe('access follows the care relationship', () => {
  test('a doctor without a relationship is refused; with a break-the-glass reason reads, and ops and the patient see it', async () => {
    const elsewhere = await makeClinic(engine.db);
    const stranger = await engine.token('doctor', { id: 'dr-stranger', practitionerId: elsewhere.practitionerId });
    const record = `/patients/${world.patientId}/record`;
    for (const path of [
      record,
      `/patients/${world.patientId}/appointments`,
      `/appointments/${world.appointmentId}`,
      `/patients/${world.patientId}/referrals`,
    ]) {
      const refused = await call(engine, 'GET', path, stranger);
      expect([path, refused.status, refused.body.error?.code]).toEqual([path, 403, 'no_care_relationship']);
    }
    const tooShort = await call(engine, 'GET', record, stranger, undefined, { 'x-break-glass-reason': 'because' });
    expect([tooShort.status, tooShort.body.error.code]).toEqual([400, 'validation_failed']);

    const glass = await call(engine, 'GET', record, stranger, undefined, { 'x-break-glass-reason': REASON });
    expect(glass.status).toBe(200);
    expect(glass.body.items.length).toBeGreaterThan(0);
    const rows = await engine.db
      .selectFrom('audit_log')
      .selectAll()
      .where('actor', '=', 'dr-stranger')
      .where('action', '=', 'break-the-glass')
      .execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ entity: 'PatientRecord', entity_id: world.patientId });
    expect(rows[0]!.details).toMatchObject({
      patientId: world.patientId,
      role: 'doctor',
      reason: REASON,
      requestId: expect.any(String),
      route: 'GET /patients/:id/record',
    });

    // No audit row grants access: after reading by break-the-glass, the next read without a reason is refused again.
    const after = await call(engine, 'GET', record, stranger);
    expect([after.status, after.body.error?.code]).toEqual([403, 'no_care_relationship']);
    // The refusals are on record as refused, never as reads.
    const refusals = await engine.db
      .selectFrom('audit_log')
      .select(['action', 'outcome'])
      .where('actor', '=', 'dr-stranger')
      .where('outcome', '=', 'refused')
      .execute();
    expect(refusals.length).toBeGreaterThanOrEqual(5);
    expect(refusals.every((r) => r.action === 'refused')).toBe(true);
    expect(
      await engine.db.selectFrom('audit_log').select('id').where('actor', '=', 'dr-stranger').where('action', '=', 'read').execute(),
    ).toEqual([]);

    const ops = await engine.token('ops', { id: 'ops-1' });
    const listed = await call(engine, 'GET', '/ops/break-glass', ops);
    expect(listed.status).toBe(200);
    expect(listed.body.entries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ userId: 'dr-stranger', patientId: world.patientId, reason: REASON, action: 'break-the-glass' }),
      ]),
    );
    expect((await call(engine, 'GET', '/ops/break-glass', stranger)).status).toBe(403);

    // The patient sees who read their record, when and why.
    const own = await engine.token('patient', { id: `patient-${world.patientId}`, patientId: world.patientId });
    const log = await call(engine, 'GET', `${record}/access-log`, own);
    expect(log.status).toBe(200);
    expect(log.body.entries).toEqual(
      expect.arrayContaining([expect.objectContaining({ userId: 'dr-stranger', role: 'doctor', reason: REASON, at: expect.any(String) })]),
    );
    const other = await engine.token('patient', { id: 'patient-other', patientId: randomUUID() });
    expect((await call(engine, 'GET', `${record}/access-log`, other)).status).toBe(403);
    expect((await call(engine, 'GET', record, other)).status).toBe(403);
  });

  test('doctors and registrars with a relationship read without a reason; ops and labs never read the record', async () => {
    // A colleague at the clinic of the visit has no relationship of their own, until the patient is attached to that clinic.
    const colleague = await engine.token('doctor', { id: 'dr-colleague', practitionerId: world.a.otherPractitionerId });
    const refused = await call(engine, 'GET', `/patients/${world.patientId}/record`, colleague);
    expect([refused.status, refused.body.error?.code]).toEqual([403, 'no_care_relationship']);
    await engine.db.insertInto('patient_attachments').values({ patient_id: world.patientId, clinic_id: world.a.clinicId }).execute();
    expect((await call(engine, 'GET', `/patients/${world.patientId}/record`, colleague)).status).toBe(200);
    const referrer = await engine.token('doctor', { id: 'dr-referrer', practitionerId: world.b.doctorId });
    expect((await call(engine, 'GET', `/patients/${world.patientId}/appointments`, referrer)).status).toBe(200);
    const registrarB = await engine.token('registrar', { id: 'reg-b', clinicId: world.b.clinicId }); // the referral and the lab order are at B
    expect((await call(engine, 'GET', `/patients/${world.patientId}/record`, registrarB)).status).toBe(200);
    expect((await call(engine, 'GET', `/patients/${world.patientId}/record`, await engine.token('ops'))).status).toBe(403);
    expect(
      (await call(engine, 'GET', `/patients/${world.patientId}/record`, await engine.token('lab', { clinicId: world.b.clinicId }))).status,
    ).toBe(403);
    expect((await call(engine, 'GET', `/patients/${world.patientId}/record`, await engine.token('admin'))).status).toBe(200);
  });

  test("a registrar of clinic B cannot book, confirm, cancel or check in at clinic A; A's registrar can", async () => {
    const registrarB = await engine.token('registrar', { id: 'reg-b', clinicId: world.b.clinicId });
    const registrarA = await engine.token('registrar', { id: 'reg-a', clinicId: world.a.clinicId });
    const path = (action: string) => `/appointments/${world.appointmentId}/${action}`;
    for (const [action, body] of [
      ['confirm', undefined],
      ['cancel', { reason: 'not mine' }],
      ['check-in', undefined],
    ] as const) {
      const refused = await call(engine, 'POST', path(action), registrarB, body);
      expect([action, refused.status, refused.body.error.code]).toEqual([action, 403, 'wrong_clinic']);
    }
    const slot = await makeSlot(engine.db, world.a, daysFromNow(5));
    const other = await engine.db
      .insertInto('patients')
      .values({ full_name: 'Other Patient', birth_date: '1970-01-01', sex: 'male', phone: null, home_clinic_id: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    const book = await call(
      engine,
      'POST',
      '/appointments',
      registrarB,
      { slotId: slot.id, patientId: other.id },
      { 'idempotency-key': `b-${randomUUID()}` },
    );
    expect([book.status, book.body.error.code]).toEqual([403, 'wrong_clinic']);
    expect(await engine.db.selectFrom('appointments').select('id').where('slot_id', '=', slot.id).execute()).toEqual([]);
    const dayList = await call(
      engine,
      'GET',
      `/practitioners/${world.a.practitionerId}/day?date=${daysFromNow(3).toISOString().slice(0, 10)}`,
      registrarB,
    );
    expect(dayList.status).toBe(403);
    expect(
      (
        await call(
          engine,
          'GET',
          `/practitioners/${world.a.practitionerId}/day?date=${daysFromNow(3).toISOString().slice(0, 10)}`,
          registrarA,
        )
      ).status,
    ).toBe(200);
    const queue = await call(engine, 'GET', `/referrals/queue?clinicId=${world.a.clinicId}`, registrarB);
    expect(queue.status).toBe(403);

    const cancelled = await call(engine, 'POST', path('cancel'), registrarA, { reason: 'patient asked' });
    expect([cancelled.status, cancelled.body.status]).toEqual([200, 'cancelled']);
    const write = await engine.db
      .selectFrom('audit_log')
      .selectAll()
      .where('actor', '=', 'reg-a')
      .where('action', '=', 'write')
      .where('entity_id', '=', world.appointmentId)
      .executeTakeFirstOrThrow();
    expect(write.details).toMatchObject({
      patientId: world.patientId,
      role: 'registrar',
      clinicIds: [world.a.clinicId],
      route: 'POST /appointments/:id/cancel',
      requestId: expect.any(String),
    });
  });

  test('ops query the audit log by patient and by user; each row carries its request id', async () => {
    const ops = await engine.token('ops', { id: 'ops-2' });
    const byPatient = await call(engine, 'GET', `/ops/audit?patientId=${world.patientId}&limit=200`, ops);
    expect(byPatient.status).toBe(200);
    const entries = byPatient.body.entries as Json[];
    expect(entries.length).toBeGreaterThan(3);
    expect(entries.every((e) => e.patientId === world.patientId && typeof e.requestId === 'string')).toBe(true);
    expect(entries.map((e) => e.userId)).toEqual(expect.arrayContaining(['dr-stranger', 'dr-colleague', 'reg-a']));

    const byUser = await call(engine, 'GET', '/ops/audit?userId=dr-stranger', ops);
    expect(byUser.body.entries.length).toBeGreaterThanOrEqual(1);
    expect(byUser.body.entries.every((e: Json) => e.userId === 'dr-stranger')).toBe(true);

    // Paged by cursor: every row once.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: Json } = await call(
        engine,
        'GET',
        `/ops/audit?patientId=${world.patientId}&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        ops,
      );
      seen.push(...page.body.entries.map((e: Json) => e.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(entries.map((e) => e.id));

    expect((await call(engine, 'GET', '/ops/audit', ops)).status).toBe(400);
    expect((await call(engine, 'GET', `/ops/audit?patientId=${world.patientId}`, await engine.token('doctor'))).status).toBe(403);
    // The log is append-only.
    await expect(engine.db.deleteFrom('audit_log').where('actor', '=', 'dr-stranger').execute()).rejects.toThrow(/append-only/);
  });
});
