/**
 * The admin API for what was policy in Postgres only (issue 19, finding 10): referral waiting
 * times, lab escalation steps, critical ranges, clinic calendars and closures, the rollout list.
 * Versions take effect from effectiveFrom; new processes take the version in force at their start.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { clinicCalendar } from '../db/calendar';
import { referralPolicy, referralStart } from '../db/referral';
import { isWorkingDay } from '../domain/calendar';
import { addDays, localToday } from '../domain/time';
import { referralStatusQuery } from '../workflows/referral';
import { makeClinic, makePatient, type TestClinic } from './fixtures';
import { eventually, jsonRequest, startTestEngine, type TestEngine } from './helpers';
import { labApi, makeLabClinic, makeLabPatient } from './lab-fixtures';

let engine: TestEngine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(async () => {
  await engine.stop();
});

type Json = Record<string, any>;
const WAITS = '/admin/policies/referral-waiting-times';
async function call(method: string, path: string, token: string, body?: unknown, headers: Record<string, string> = {}) {
  const init = jsonRequest(method, token, body);
  init.headers = { ...(init.headers as Record<string, string>), ...headers };
  const res = await engine.app.request(path, init);
  return { status: res.status, body: (await res.json()) as Json };
}
const admin = () => engine.token('admin', { id: 'admin-1' });
const asAdmin = async (method: string, path: string, body?: unknown) => call(method, path, await admin(), body);
const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();
const sinceCreated = (r: Json, at: string) => Date.parse(at) - Date.parse(r.createdAt);

/** The clinic's second practitioner refers a new patient to the first's specialty. */
async function refer(clinic: TestClinic) {
  const referrer = clinic.otherPractitionerId;
  const token = await engine.token('doctor', { id: `doctor-${referrer}`, practitionerId: referrer });
  const res = await call(
    'POST',
    '/referrals',
    token,
    {
      patientId: await makePatient(engine.db),
      referringPractitionerId: referrer,
      specialty: clinic.specialty,
      reason: 'chest pain on exertion',
      icd10: 'I20.8',
    },
    { 'idempotency-key': `ref-${randomUUID()}` },
  );
  expect(res.status).toBe(201);
  return res.body;
}
const processState = (referralId: string) =>
  eventually(
    () =>
      engine.client.workflow
        .getHandle(`referral-${referralId}`)
        .query(referralStatusQuery)
        .catch(() => undefined),
    30_000,
    'referral process',
  );
const policyAudit = (entity: string, entityId: string) =>
  engine.db
    .selectFrom('audit_log')
    .selectAll()
    .where('action', '=', 'policy-change')
    .where('entity', '=', entity)
    .where('entity_id', '=', entityId)
    .orderBy('id')
    .execute();

type VersionTable = 'referral_policies' | 'lab_escalation_policies' | 'lab_critical_ranges' | 'clinic_calendar_versions';
/** Rows only the admin API writes (created_by set), the clinic's closures, and policy audit rows. */
async function adminWrites(clinicId: string) {
  const n = sql<string>`count(*)`.as('n');
  const count = async (table: VersionTable) =>
    Number((await engine.db.selectFrom(table).select(n).where('created_by', 'is not', null).executeTakeFirstOrThrow()).n);
  const closures = await engine.db.selectFrom('clinic_closures').select('closed_on').where('clinic_id', '=', clinicId).execute();
  const audit = await engine.db.selectFrom('audit_log').select(n).where('action', '=', 'policy-change').executeTakeFirstOrThrow();
  return {
    referral: await count('referral_policies'),
    escalation: await count('lab_escalation_policies'),
    critical: await count('lab_critical_ranges'),
    calendar: await count('clinic_calendar_versions'),
    closures: closures.length,
    audit: Number(audit.n),
  };
}

describe('referral waiting times', () => {
  test('a changed waiting time and share give a NEW referral its deadline; an existing referral and its process keep theirs', async () => {
    const clinic = await makeClinic(engine.db);
    const scope = { clinicId: clinic.clinicId, kind: 'specialist', urgency: 'routine' };
    const first = await asAdmin('POST', WAITS, { ...scope, wait: { seconds: 3600 }, escalationShare: 0.5 });
    expect(first).toMatchObject({
      status: 201,
      body: { clinicId: clinic.clinicId, wait: { seconds: 3600 }, escalationShare: 0.5, inForce: true, createdBy: 'admin-1' },
    });
    const before = await refer(clinic);
    expect(sinceCreated(before, before.deadlineAt)).toBe(3600_000);

    const second = await asAdmin('POST', WAITS, { ...scope, wait: { seconds: 7200 }, escalationShare: 0.75, reason: 'regional order 12' });
    expect(second.status).toBe(201);
    const after = await refer(clinic);
    expect(sinceCreated(after, after.deadlineAt)).toBe(7200_000);
    expect(sinceCreated(after, (await processState(after.id)).escalateAt)).toBe(5400_000);

    // The existing referral: its row, its process and a restart of its process keep the version it was created under.
    const row = await engine.db.selectFrom('referrals').selectAll().where('id', '=', before.id).executeTakeFirstOrThrow();
    expect(row.deadline_at.toISOString()).toBe(before.deadlineAt);
    expect(sinceCreated(before, (await processState(before.id)).escalateAt)).toBe(1800_000);
    expect((await referralStart(engine.db, row)).policy).toMatchObject({ wait: { seconds: 3600 }, escalationShare: 0.5 });

    const audit = await policyAudit('referral-waiting-time', clinic.clinicId);
    expect(audit).toHaveLength(2);
    expect(audit[1]).toMatchObject({
      actor: 'admin-1',
      details: {
        change: 'specialist/routine',
        before: { wait: { seconds: 3600 }, escalationShare: 0.5 },
        after: { wait: { seconds: 7200 }, escalationShare: 0.75 },
        reason: 'regional order 12',
        role: 'admin',
      },
    });
  });

  test('a future version is not in force yet, a past one is, and every version stays listed', async () => {
    const clinic = await makeClinic(engine.db);
    const scope = { clinicId: clinic.clinicId, kind: 'diagnostic', urgency: 'routine' };
    expect((await asAdmin('POST', WAITS, { ...scope, wait: { workingDays: 10 } })).status).toBe(201);
    const future = inDays(1);
    expect((await asAdmin('POST', WAITS, { ...scope, wait: { workingDays: 5 }, effectiveFrom: future })).body).toMatchObject({
      inForce: false,
    });

    const now = await asAdmin('GET', `${WAITS}?clinicId=${clinic.clinicId}&kind=diagnostic`);
    expect(now.status).toBe(200);
    expect(now.body.versions.map((v: Json) => [v.wait, v.inForce])).toEqual([
      [{ workingDays: 5 }, false],
      [{ workingDays: 10 }, true],
    ]);
    expect(now.body.effective.find((e: Json) => e.kind === 'diagnostic' && e.urgency === 'routine').wait).toEqual({ workingDays: 10 });
    const later = await asAdmin('GET', `${WAITS}?clinicId=${clinic.clinicId}&kind=diagnostic&at=${encodeURIComponent(inDays(2))}`);
    expect(later.body.versions.map((v: Json) => v.inForce)).toEqual([true, false]);
    expect((await referralPolicy(engine.db, clinic.clinicId, 'diagnostic', 'routine')).wait).toEqual({ workingDays: 10 });
    expect((await referralPolicy(engine.db, clinic.clinicId, 'diagnostic', 'routine', new Date(inDays(2)))).wait).toEqual({
      workingDays: 5,
    });

    // A region's version reaches a clinic whose calendar names that region; the clinic's own still wins for its kind.
    const region = `Z${randomInt(10, 99)}`;
    expect((await asAdmin('PUT', `/admin/clinics/${clinic.clinicId}/calendar`, { country: 'RU', region })).status).toBe(200);
    expect((await asAdmin('POST', WAITS, { region, kind: 'gp', urgency: 'routine', wait: { hours: 12 } })).status).toBe(201);
    expect((await referralPolicy(engine.db, clinic.clinicId, 'gp', 'routine')).wait).toEqual({ hours: 12 });
    expect((await referralPolicy(engine.db, clinic.clinicId, 'diagnostic', 'routine')).wait).toEqual({ workingDays: 10 });

    expect(await asAdmin('POST', WAITS, { ...scope, wait: { workingDays: 6 }, effectiveFrom: future })).toMatchObject({
      status: 409,
      body: { error: { code: 'version_exists' } },
    });
  });
});

describe('lab escalation and critical ranges', () => {
  test('a new order takes the critical limits and escalation steps in force when placed; orders placed before keep theirs', async () => {
    const clinic = await makeLabClinic(engine.db);
    const api = labApi(engine, clinic);
    const loinc = `${randomInt(9_000_000, 9_999_999)}-${randomInt(0, 9)}`;
    await engine.db
      .insertInto('lab_tests')
      .values({ loinc, name: 'Admin test analyte', unit: 'mmol/L', specimen_type: 'serum', physio_low: 0, physio_high: 20 })
      .execute();
    await engine.db
      .insertInto('lab_reference_ranges')
      .values({
        loinc,
        sex: null,
        ref_low: 3.5,
        ref_high: 5.1,
        critical_low: 2.5,
        critical_high: 6.5,
        source: 'test',
        age_min_years: null,
        age_max_years: null,
      })
      .execute();
    const order = async () => {
      const o = await api.order(await makeLabPatient(engine.db), [loinc], 'stat');
      expect(o.status).toBe(201);
      return o.body.id as string;
    };
    const [highBefore, criticalBefore] = [await order(), await order()];

    const range = await asAdmin('POST', '/admin/policies/critical-ranges', {
      loinc,
      criticalLow: 2.8,
      criticalHigh: 6.0,
      reason: 'lab director memo',
    });
    expect(range).toMatchObject({ status: 201, body: { loinc, criticalLow: 2.8, criticalHigh: 6.0, inForce: true } });
    const steps = await asAdmin('POST', '/admin/policies/lab-escalation', {
      clinicId: clinic.clinicId,
      escalateCoveringSeconds: 1,
      escalateHeadSeconds: 2,
    });
    expect(steps).toMatchObject({
      status: 201,
      body: { clinicId: clinic.clinicId, escalateCoveringSeconds: 1, escalateHeadSeconds: 2, inForce: true },
    });
    const highAfter = await order();

    const post = async (id: string, value: number) => {
      await api.collectAndReceive(id);
      const res = await api.post(id, [{ loinc, value, unit: 'mmol/L' }]);
      expect(res.status).toBe(200);
      return res.body.results[0].flag as string;
    };
    expect(await post(highBefore, 6.2)).toBe('H');
    expect(await post(criticalBefore, 7.0)).toBe('HH');
    expect(await post(highAfter, 6.2)).toBe('HH');
    const notified = async (id: string) =>
      (
        await engine.db
          .selectFrom('lab_critical_notifications')
          .select('step')
          .where('lab_order_id', '=', id)
          .orderBy('notified_at')
          .execute()
      ).map((s) => s.step);
    await eventually(async () => (await notified(highAfter)).length === 3, 30_000, 'covering and head escalations');
    expect(await notified(highAfter)).toEqual(['ordering', 'covering', 'head']);
    expect(await notified(criticalBefore)).toEqual(['ordering']);

    const listed = await asAdmin('GET', `/admin/policies/critical-ranges?loinc=${loinc}`);
    expect(listed.body).toMatchObject({
      versions: [{ loinc, criticalHigh: 6.0, inForce: true }],
      effective: { criticalLow: 2.8, criticalHigh: 6.0 },
    });
    const escalation = await asAdmin('GET', `/admin/policies/lab-escalation?clinicId=${clinic.clinicId}`);
    expect(escalation.body.effective).toEqual({ escalateCoveringSeconds: 1, escalateHeadSeconds: 2 });
    expect((await policyAudit('critical-range', loinc))[0]).toMatchObject({
      actor: 'admin-1',
      details: { before: { bands: [{ criticalLow: 2.5, criticalHigh: 6.5 }] }, after: { criticalLow: 2.8, criticalHigh: 6.0 } },
    });
    expect((await policyAudit('lab-escalation', clinic.clinicId))[0]).toMatchObject({
      details: { before: { escalateCoveringSeconds: 120, escalateHeadSeconds: 240 }, after: { escalateCoveringSeconds: 1 } },
    });
  });
});

describe('clinic calendars and closures', () => {
  test("a closure added moves a new referral's deadline, not an old one's; it can be removed; the calendar lists its history", async () => {
    const clinic = await makeClinic(engine.db);
    const closures = `/admin/clinics/${clinic.clinicId}/closures`;
    const wait = { clinicId: clinic.clinicId, kind: 'specialist', urgency: 'routine', wait: { workingDays: 3 } };
    expect((await asAdmin('POST', WAITS, wait)).status).toBe(201);
    const before = await refer(clinic);
    const cal = await clinicCalendar(engine.db, clinic.clinicId);
    let date = addDays(localToday(cal.timeZone), 1);
    while (!isWorkingDay(date, cal)) date = addDays(date, 1);

    const closed = await asAdmin('POST', `${closures}/${date}`, { reason: 'sanitary day' });
    expect(closed).toMatchObject({ status: 201, body: { clinicId: clinic.clinicId, date, closed: true } });
    expect((await asAdmin('POST', `${closures}/${date}`, { reason: 'again' })).body.error.code).toBe('closure_exists');
    const after = await refer(clinic);
    expect(Date.parse(after.deadlineAt)).toBeGreaterThan(Date.parse(before.deadlineAt) + 23 * 3600_000);
    const old = await engine.db.selectFrom('referrals').select('deadline_at').where('id', '=', before.id).executeTakeFirstOrThrow();
    expect(old.deadline_at.toISOString()).toBe(before.deadlineAt);

    expect((await asAdmin('DELETE', `${closures}/${date}?reason=opened%20after%20all`)).status).toBe(200);
    expect((await asAdmin('DELETE', `${closures}/${date}`)).body.error.code).toBe('closure_not_found');
    const reopened = await refer(clinic);
    expect(Date.parse(reopened.deadlineAt)).toBeLessThan(Date.parse(after.deadlineAt));

    const calendar = `/admin/clinics/${clinic.clinicId}/calendar`;
    expect((await asAdmin('PUT', calendar, { country: 'RU', region: 'SPE', effectiveFrom: inDays(1) })).status).toBe(200);
    const view = await asAdmin('GET', calendar);
    expect(view.body).toMatchObject({
      timeZone: 'Europe/Moscow',
      inForce: { country: 'RU', region: null, source: 'default' },
      versions: [{ region: 'SPE', inForce: false }],
      closures: [],
    });
    expect(view.body.changes.map((ch: Json) => ch.details.change)).toEqual(['country-region', 'closure-removed', 'closure-added']);
    expect(view.body.changes[1]).toMatchObject({
      actor: 'admin-1',
      details: { before: { date, reason: 'sanitary day' }, after: null, reason: 'opened after all' },
    });
    const later = await asAdmin('GET', `${calendar}?at=${encodeURIComponent(inDays(2))}`);
    expect(later.body.inForce).toMatchObject({ country: 'RU', region: 'SPE', source: 'version' });
    expect((await clinicCalendar(engine.db, clinic.clinicId, new Date(inDays(2)))).region).toBe('SPE');
  });
});

describe('the rollout program list', () => {
  test('lists programs for admin and ops', async () => {
    const id = randomUUID();
    await engine.db
      .insertInto('rollout_programs')
      .values({
        id,
        name: 'Admin list program',
        workflow_id: `rollout-${id}`,
        pilot_clinic_ids: [],
        clinic_ids: [randomUUID()],
        policy: '{}',
        created_by: 'admin-1',
      })
      .execute();
    for (const role of ['admin', 'ops'] as const) {
      const res = await call('GET', '/rollout-programs?limit=200', await engine.token(role));
      expect(res.status).toBe(200);
      expect(res.body.programs).toEqual(
        expect.arrayContaining([expect.objectContaining({ id, name: 'Admin list program', clinicCount: 1 })]),
      );
    }
  });
});

describe('refusals', () => {
  test('doctor, ops and registrar tokens get 403 on every admin route and nothing is written', async () => {
    const clinic = await makeClinic(engine.db);
    const date = addDays(localToday('Europe/Moscow'), 3);
    const at = `/admin/clinics/${clinic.clinicId}`;
    const writes: Array<[string, string, unknown?]> = [
      ['POST', WAITS, { clinicId: clinic.clinicId, kind: 'specialist', urgency: 'routine', wait: { seconds: 60 } }],
      ['POST', '/admin/policies/lab-escalation', { clinicId: clinic.clinicId, escalateCoveringSeconds: 60, escalateHeadSeconds: 120 }],
      ['POST', '/admin/policies/critical-ranges', { loinc: '2823-3', criticalLow: 2.4, criticalHigh: 6.6 }],
      ['PUT', `${at}/calendar`, { country: 'RU', region: 'MOW' }],
      ['POST', `${at}/closures/${date}`, { reason: 'sanitary day' }],
      ['DELETE', `${at}/closures/${date}`],
    ];
    const reads = [WAITS, '/admin/policies/lab-escalation', '/admin/policies/critical-ranges', `${at}/calendar`].map(
      (p): [string, string] => ['GET', p],
    );
    const before = await adminWrites(clinic.clinicId);
    for (const role of ['doctor', 'ops', 'registrar'] as const) {
      const token = await engine.token(role, { clinicId: clinic.clinicId, practitionerId: clinic.practitionerId });
      for (const [method, path, body] of [...writes, ...reads]) {
        const refused = { status: 403, body: { error: { code: 'forbidden' } } };
        expect([role, method, path, await call(method, path, token, body)]).toMatchObject([role, method, path, refused]);
      }
      if (role !== 'ops') expect((await call('GET', '/rollout-programs', token)).status).toBe(403);
    }
    expect(await adminWrites(clinic.clinicId)).toEqual(before);
  });

  test('bad input gets a 4xx with a machine-readable code and nothing is written', async () => {
    const clinic = await makeClinic(engine.db);
    const wait = (extra: Json) => ({
      clinicId: clinic.clinicId,
      kind: 'specialist',
      urgency: 'routine',
      wait: { workingDays: 5 },
      ...extra,
    });
    const [escalation, critical, at] = [
      '/admin/policies/lab-escalation',
      '/admin/policies/critical-ranges',
      `/admin/clinics/${clinic.clinicId}`,
    ];
    const cases: Array<[string, string, unknown, number, string]> = [
      ['POST', WAITS, wait({ wait: { hours: -2 } }), 422, 'negative_duration'],
      ['POST', WAITS, wait({ escalationShare: 1 }), 422, 'share_out_of_range'],
      ['POST', WAITS, wait({ escalationShare: 0 }), 422, 'share_out_of_range'],
      ['POST', WAITS, wait({ acknowledgeSeconds: -5 }), 422, 'negative_duration'],
      ['POST', WAITS, wait({ region: 'MOW' }), 422, 'scope_ambiguous'],
      ['POST', WAITS, wait({ clinicId: randomUUID() }), 404, 'clinic_not_found'],
      ['POST', WAITS, wait({ effectiveFrom: inDays(-1) }), 422, 'effective_from_in_past'],
      ['POST', WAITS, wait({ colour: 'red' }), 400, 'validation_failed'],
      ['POST', escalation, { escalateCoveringSeconds: 900, escalateHeadSeconds: 600 }, 422, 'escalation_order'],
      ['POST', escalation, { escalateCoveringSeconds: -1, escalateHeadSeconds: 600 }, 422, 'negative_duration'],
      ['POST', critical, { loinc: '2823-3', criticalLow: 6.5, criticalHigh: 2.5 }, 422, 'range_inverted'],
      ['POST', critical, { loinc: '2823-3', criticalLow: 4.0, criticalHigh: 6.5 }, 422, 'range_inverted'],
      ['POST', critical, { loinc: '2823-3', criticalLow: null, criticalHigh: null }, 422, 'range_empty'],
      ['POST', critical, { loinc: '99999-9', criticalLow: 1, criticalHigh: 2 }, 404, 'unknown_loinc'],
      ['PUT', `${at}/calendar`, { country: 'XX' }, 422, 'unknown_country'],
      ['PUT', `/admin/clinics/${randomUUID()}/calendar`, { country: 'RU' }, 404, 'clinic_not_found'],
      ['POST', `${at}/closures/2026-02-30`, { reason: 'x' }, 422, 'invalid_date'],
      ['POST', `${at}/closures/2020-01-09`, { reason: 'x' }, 422, 'closure_in_past'],
    ];
    const before = await adminWrites(clinic.clinicId);
    for (const [method, path, body, status, code] of cases) {
      expect([path, body, await asAdmin(method, path, body)]).toMatchObject([path, body, { status, body: { error: { code } } }]);
    }
    expect(await adminWrites(clinic.clinicId)).toEqual(before);
  });
});
