/**
 * What the screens need from the JSON API (issue 21): who am I, patient search within access,
 * names beside ids, lists that say when they were cut, the lab's critical values awaiting
 * read-back, the registrar queue on the token's clinic, "read-back required", and a token CLI
 * that refuses tokens the API could only refuse.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { demoId, demoPolicyNumber } from '../db/seed';
import { localDateTime, localToday, addDays } from '../domain/time';
import { daysFromNow, makeClinic, makeSlot } from './fixtures';
import { eventually, startTestEngine, type TestEngine } from './helpers';
import { labApi, makeLabPatient } from './lab-fixtures';
import { call, makeRecordWorld, type Json, type RecordWorld } from './record-fixtures';

let engine: TestEngine;
let world: RecordWorld;
beforeAll(async () => {
  engine = await startTestEngine();
  world = await makeRecordWorld(engine);
}, 120_000);
afterAll(async () => {
  await engine.stop();
});

const tag = () => `Q${randomUUID().replace(/-/g, '').slice(0, 10)}`;

async function makeNamedPatient(opts: {
  name: string;
  homeClinicId?: string | null;
  birthDate?: string;
  policy?: string | null;
}): Promise<string> {
  const row = await engine.db
    .insertInto('patients')
    .values({
      full_name: opts.name,
      birth_date: opts.birthDate ?? '1961-03-14',
      sex: 'female',
      phone: null,
      home_clinic_id: opts.homeClinicId ?? null,
      policy_number: opts.policy ?? null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

describe('GET /me', () => {
  test('a patient, a doctor and a registrar each learn their role, their clinics by name and zone, and their own record', async () => {
    const clinic = await makeClinic(engine.db, { timeZone: 'Asia/Yekaterinburg' });
    const policy = `77${Date.now().toString().slice(-14)}`;
    const patientId = await makeNamedPatient({ name: 'Vera Lebedeva', homeClinicId: clinic.clinicId, policy });

    const me = await call(engine, 'GET', '/me', await engine.token('patient', { id: 'app-vera', patientId }));
    expect(me.status).toBe(200);
    expect(me.body).toEqual({
      userId: 'app-vera',
      role: 'patient',
      clinics: [{ id: clinic.clinicId, name: 'Test clinic', timeZone: 'Asia/Yekaterinburg' }],
      patient: {
        id: patientId,
        fullName: 'Vera Lebedeva',
        birthDate: '1961-03-14',
        sex: 'female',
        policyNumber: policy,
        homeClinicId: clinic.clinicId,
        homeClinicName: 'Test clinic',
      },
      practitioner: null,
    });

    const doctor = await call(engine, 'GET', '/me', await engine.token('doctor', { id: 'dr-me', practitionerId: clinic.practitionerId }));
    expect(doctor.body).toMatchObject({
      role: 'doctor',
      patient: null,
      clinics: [{ id: clinic.clinicId, name: 'Test clinic', timeZone: 'Asia/Yekaterinburg' }],
      practitioner: {
        id: clinic.practitionerId,
        fullName: 'Dr Test',
        specialty: clinic.specialty,
        clinicId: clinic.clinicId,
        clinicName: 'Test clinic',
      },
    });

    const desk = await call(
      engine,
      'GET',
      '/me',
      await engine.token('registrar', { id: 'reg-me', clinicId: clinic.clinicId, clinicIds: [clinic.clinicId, world.b.clinicId] }),
    );
    expect(desk.body.clinics).toEqual([
      { id: clinic.clinicId, name: 'Test clinic', timeZone: 'Asia/Yekaterinburg' },
      { id: world.b.clinicId, name: 'Lab test clinic', timeZone: 'Europe/Moscow' },
    ]);
    expect((await call(engine, 'GET', '/me', undefined)).status).toBe(401);
  });
});

describe('patient search', () => {
  test("a registrar finds the patients of their clinic by family name, policy number or birth date, and nobody else's", async () => {
    const family = tag();
    const a = await makeClinic(engine.db);
    const b = await makeClinic(engine.db);
    const policy = `78${Date.now().toString().slice(-14)}`;
    const mine = await makeNamedPatient({ name: `Anna ${family}`, homeClinicId: a.clinicId, birthDate: '1972-08-09', policy });
    const theirs = await makeNamedPatient({ name: `Boris ${family}`, homeClinicId: b.clinicId });
    const registrar = await engine.token('registrar', { id: `reg-${a.clinicId.slice(0, 8)}`, clinicId: a.clinicId });

    const byName = await call(engine, 'GET', `/patients?name=${family.toLowerCase()}`, registrar);
    expect(byName.status).toBe(200);
    expect(byName.body).toEqual({
      patients: [
        {
          id: mine,
          fullName: `Anna ${family}`,
          birthDate: '1972-08-09',
          sex: 'female',
          policyNumber: policy,
          homeClinicId: a.clinicId,
          homeClinicName: 'Test clinic',
        },
      ],
      more: false,
      nextCursor: null,
    });
    expect(
      (await call(engine, 'GET', `/patients?name=anna%20${family.slice(0, 4)}`, registrar)).body.patients.map((p: Json) => p.id),
    ).toEqual([mine]);
    expect((await call(engine, 'GET', `/patients?policyNumber=${policy}`, registrar)).body.patients.map((p: Json) => p.id)).toEqual([mine]);
    const byBirth = await call(engine, 'GET', `/patients?birthDate=1972-08-09&name=${family}`, registrar);
    expect(byBirth.body.patients.map((p: Json) => p.id)).toEqual([mine]);

    // Each patient answered is an audited read; the one left out is not.
    const audited = await engine.db
      .selectFrom('audit_log')
      .select(['entity', 'entity_id'])
      .where('actor', '=', `reg-${a.clinicId.slice(0, 8)}`)
      .where('entity', '=', 'Patient')
      .execute();
    expect(new Set(audited.map((r) => r.entity_id))).toEqual(new Set([mine]));

    const admin = await call(engine, 'GET', `/patients?name=${family}`, await engine.token('admin'));
    expect(admin.body.patients.map((p: Json) => p.id)).toEqual([mine, theirs]);
    expect((await call(engine, 'GET', `/patients?name=${family}`, await engine.token('ops'))).status).toBe(403);
    expect((await call(engine, 'GET', '/patients', registrar)).body.error.code).toBe('validation_failed');
    expect((await call(engine, 'GET', `/patients?name=${family}&cursor=bm90LWEtY3Vyc29y`, registrar)).status).toBe(400);
  });

  test('a doctor finds only the patients they have a care relationship with, once a visit makes one', async () => {
    const family = tag();
    const clinic = await makeClinic(engine.db);
    const patientId = await makeNamedPatient({ name: `Olga ${family}`, homeClinicId: clinic.clinicId });
    const doctor = await engine.token('doctor', { id: `dr-${clinic.practitionerId.slice(0, 8)}`, practitionerId: clinic.practitionerId });
    expect((await call(engine, 'GET', `/patients?name=${family}`, doctor)).body.patients).toEqual([]);

    const slot = await makeSlot(engine.db, clinic, daysFromNow(4));
    const registrar = await engine.token('registrar', { id: `reg-${clinic.clinicId.slice(0, 8)}`, clinicId: clinic.clinicId });
    const booked = await call(
      engine,
      'POST',
      '/appointments',
      registrar,
      { slotId: slot.id, patientId, confirm: true },
      { 'idempotency-key': `srch-${randomUUID()}` },
    );
    expect(booked.status).toBe(201);
    expect((await call(engine, 'GET', `/patients?name=${family}`, doctor)).body.patients.map((p: Json) => p.id)).toEqual([patientId]);
  });

  test('a long result is cut at the limit with more and a cursor that resumes after the last patient', async () => {
    const family = tag();
    const clinic = await makeClinic(engine.db);
    const ids = [];
    for (const first of ['Daria', 'Egor', 'Zoya'])
      ids.push(await makeNamedPatient({ name: `${first} ${family}`, homeClinicId: clinic.clinicId }));
    const registrar = await engine.token('registrar', { clinicId: clinic.clinicId });
    const first = await call(engine, 'GET', `/patients?name=${family}&limit=2`, registrar);
    expect([first.body.patients.map((p: Json) => p.id), first.body.more]).toEqual([ids.slice(0, 2), true]);
    const second = await call(engine, 'GET', `/patients?name=${family}&limit=2&cursor=${first.body.nextCursor}`, registrar);
    expect(second.body).toMatchObject({ more: false, nextCursor: null });
    expect(second.body.patients.map((p: Json) => p.id)).toEqual([ids[2]]);
  });

  test("the demo city's patients carry policy numbers", async () => {
    const found = await call(engine, 'GET', `/patients?policyNumber=${demoPolicyNumber(0)}`, await engine.token('admin'));
    expect(found.body.patients.map((p: Json) => p.id)).toEqual([demoId('patient:0')]);
  });
});

describe('lists say when they were cut', () => {
  test('GET /slots with a limit answers more and a cursor; following it walks every slot once, in order', async () => {
    const clinic = await makeClinic(engine.db);
    const made = [];
    for (let day = 2; day <= 6; day++) made.push(await makeSlot(engine.db, clinic, daysFromNow(day)));
    const today = localToday('Europe/Moscow');
    const base = `/slots?clinicId=${clinic.clinicId}&from=${today}&to=${addDays(today, 10)}&limit=2`;
    const token = await engine.token('admin');
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { status: number; body: Json } = await call(engine, 'GET', cursor ? `${base}&cursor=${cursor}` : base, token);
      expect(page.status).toBe(200);
      seen.push(...page.body.slots.map((s: Json) => s.id));
      expect(page.body.more).toBe(page.body.nextCursor !== null);
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(seen).toEqual(made.map((s) => s.id));
    expect(pages).toBe(3);
    const all = await call(engine, 'GET', base.replace('limit=2', 'limit=5'), token);
    expect(all.body).toMatchObject({ more: false, nextCursor: null });
    expect((await call(engine, 'GET', `${base}&cursor=garbage`, token)).body.error.code).toBe('validation_failed');
  });
});

describe('names beside ids', () => {
  test("appointment lists name the clinic, the practitioner and the patient, with the clinic's local time", async () => {
    const registrar = await engine.token('registrar', { clinicId: world.a.clinicId });
    const list = await call(engine, 'GET', `/patients/${world.patientId}/appointments`, registrar);
    expect(list.status).toBe(200);
    expect(list.body.more).toBe(false);
    const appt = list.body.appointments.find((a: Json) => a.id === world.appointmentId);
    expect(appt).toMatchObject({
      clinicName: 'Test clinic',
      practitionerName: 'Dr Test',
      specialty: world.a.specialty,
      patientName: 'Lab Patient',
      timeZone: 'Europe/Moscow',
    });
    expect(appt.localStart).toBe(localDateTime(appt.startsAt, 'Europe/Moscow'));
    expect([appt.startsAtLocal, appt.endsAtLocal]).toEqual([appt.localStart, localDateTime(appt.endsAt, 'Europe/Moscow')]);
    const day = await call(engine, 'GET', `/practitioners/${world.a.practitionerId}/day?date=${appt.localStart.slice(0, 10)}`, registrar);
    expect(day.body.appointments.find((a: Json) => a.id === world.appointmentId)).toMatchObject({
      patientName: 'Lab Patient',
      practitionerName: 'Dr Test',
    });
  });

  test("the patient's record names each item's clinic, doctors and tests, with its time on the clinic's clock", async () => {
    const record = await call(engine, 'GET', `/patients/${world.patientId}/record?limit=200`, await engine.token('admin'));
    expect(record.status).toBe(200);
    const visit = record.body.items.find((i: Json) => i.kind === 'appointment' && i.id === world.appointmentId);
    expect(visit).toMatchObject({ clinicName: 'Test clinic', practitionerName: 'Dr Test', timeZone: 'Europe/Moscow' });
    expect(visit.atLocal).toBe(localDateTime(visit.at, 'Europe/Moscow'));
    expect(record.body.items.find((i: Json) => i.kind === 'lab-report')).toMatchObject({
      clinicName: 'Lab test clinic',
      orderingPractitionerName: 'Dr Order',
      testNames: ['Potassium'],
    });
    expect(record.body.items.find((i: Json) => i.kind === 'referral')).toMatchObject({
      referringPractitionerName: 'Dr Order',
      targetPractitionerName: null,
    });
  });

  test("the registrar queue defaults to the token's clinic and names the clinic, the doctors and the patient", async () => {
    const registrarB = await engine.token('registrar', { clinicId: world.b.clinicId });
    const queue = await call(engine, 'GET', '/referrals/queue', registrarB);
    expect(queue.status).toBe(200);
    const row = queue.body.referrals.find((r: Json) => r.id === world.referralId);
    expect(row).toMatchObject({
      clinicName: 'Lab test clinic',
      timeZone: 'Europe/Moscow',
      referringPractitionerName: 'Dr Order',
      targetPractitionerName: null,
      patientName: 'Lab Patient',
    });
    expect(row.deadlineAtLocal).toBe(localDateTime(row.deadlineAt, 'Europe/Moscow'));
    expect(queue.body).toMatchObject({ more: false, nextOffset: null });
    expect((await call(engine, 'GET', '/referrals/queue', await engine.token('admin'))).body.error.code).toBe('validation_failed');
    expect((await call(engine, 'GET', `/referrals/queue?clinicId=${world.a.clinicId}`, registrarB)).body.error.code).toBe('wrong_clinic');
    // A doctor not on the referral sees it listed without the patient's name.
    const stranger = await engine.token('doctor', { practitionerId: world.a.otherPractitionerId });
    const listed = await call(engine, 'GET', `/referrals/queue?clinicId=${world.b.clinicId}`, stranger);
    expect(listed.body.referrals.find((r: Json) => r.id === world.referralId)).toMatchObject({
      patientName: null,
      referringPractitionerName: 'Dr Order',
    });
  });

  test("the lab worklist and the doctor's inbox name the patient, the doctor and each test beside its LOINC code", async () => {
    const api = labApi(engine, world.b);
    const patientId = await makeLabPatient(engine.db);
    const ordered = await api.order(patientId, ['2823-3', '2951-2']);
    expect(ordered.status).toBe(201);
    const worklist = await api.call('GET', '/lab/worklist', await api.labToken());
    expect(worklist.body.more).toBe(false);
    const row = worklist.body.orders.find((o: Json) => o.id === ordered.body.id);
    expect(row).toMatchObject({
      tests: ['2823-3', '2951-2'],
      testNames: ['Potassium', 'Sodium'],
      patientName: 'Lab Patient',
      orderingPractitionerName: 'Dr Order',
      clinicName: 'Lab test clinic',
      timeZone: 'Europe/Moscow',
    });
    expect(row.createdAtLocal).toBe(localDateTime(row.createdAt, 'Europe/Moscow'));
    const inbox = await api.call('GET', '/doctors/me/lab-inbox', await api.doctorToken());
    expect(inbox.body.orders.find((o: Json) => o.id === world.labOrderId)).toMatchObject({
      testNames: ['Potassium'],
      patientName: 'Lab Patient',
      critical: true,
    });
    const results = await api.call('GET', `/patients/${world.patientId}/lab-results`, await api.doctorToken());
    expect(results.body.more).toBe(false);
  });
});

describe('critical values and their read-back', () => {
  test('the lab sees its own critical value waiting; an empty read-back is "required", a wrong one a mismatch; the right one clears the list', async () => {
    const api = labApi(engine, world.b);
    const lab = await api.labToken();
    const waiting = await eventually(
      async () => {
        const res = await api.call('GET', '/lab/critical-results', lab);
        return res.body.results?.find((r: Json) => r.orderId === world.labOrderId);
      },
      30_000,
      "the critical potassium on the lab's list",
    );
    expect(waiting).toMatchObject({
      patientId: world.patientId,
      patientName: 'Lab Patient',
      orderingPractitionerName: 'Dr Order',
      clinicName: 'Lab test clinic',
      critical: [{ loinc: '2823-3', name: 'Potassium', value: 6.8, unit: 'mmol/L', interpretation: 'HH' }],
    });
    const otherLab = await api.labToken(world.a.clinicId);
    expect((await api.call('GET', '/lab/critical-results', otherLab)).body.results.some((r: Json) => r.orderId === world.labOrderId)).toBe(
      false,
    );
    expect((await api.call('GET', `/lab/critical-results?clinicId=${world.b.clinicId}`, otherLab)).body.error.code).toBe('wrong_clinic');
    const ops = await api.call('GET', '/ops/critical-results', await engine.token('ops'));
    expect(ops.body.results.find((r: Json) => r.orderId === world.labOrderId)).toMatchObject({
      patientName: null,
      clinicName: 'Lab test clinic',
      testNames: ['Potassium'],
    });

    const doctor = await api.doctorToken();
    const empty = await api.call('POST', `/lab-orders/${world.labOrderId}/acknowledge`, doctor, { readBack: [] });
    expect([empty.status, empty.body.error.code, empty.body.error.details]).toEqual([422, 'read_back_required', { loinc: '2823-3' }]);
    const wrong = await api.call('POST', `/lab-orders/${world.labOrderId}/acknowledge`, doctor, {
      readBack: [{ loinc: '2823-3', value: 5.8, unit: 'mmol/L' }],
    });
    expect([wrong.status, wrong.body.error.code]).toEqual([422, 'read_back_mismatch']);
    expect(
      (await engine.db.selectFrom('lab_orders').select('status').where('id', '=', world.labOrderId).executeTakeFirstOrThrow()).status,
    ).toBe('final');
    const right = await api.call('POST', `/lab-orders/${world.labOrderId}/acknowledge`, doctor, {
      readBack: [{ loinc: '2823-3', value: 6.8, unit: 'mmol/L' }],
    });
    expect(right.body).toMatchObject({ status: 'acknowledged' });
    expect((await api.call('GET', '/lab/critical-results', lab)).body.results.some((r: Json) => r.orderId === world.labOrderId)).toBe(
      false,
    );
  });
});

describe('npm run token', () => {
  const mint = (...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', path.join(__dirname, '..', 'api/mint-token.ts'), ...args],
        {
          env: {
            ...process.env,
            DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'screens-token-')),
            NODE_ENV: 'development',
            AUTH_SECRET: engine.config.AUTH_SECRET,
          },
        },
        (err, stdout, stderr) => {
          resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
        },
      );
    });

  test.each([
    [['patient'], /--patient/],
    [['registrar'], /--clinic/],
    [['lab'], /--clinic/],
    [['nurse'], /unknown role "nurse"/],
    [['lab', '--clinic', 'pc-01'], /uuid/],
  ])('refuses %j with a clear message, exit code 2 and no token', async (args, message) => {
    const { code, stdout, stderr } = await mint(...args);
    expect([code, stdout]).toEqual([2, '']);
    expect(stderr).toMatch(message);
  });

  test('mints a scoped registrar token the API accepts', async () => {
    const { code, stdout } = await mint('registrar', '--clinic', world.a.clinicId);
    expect(code).toBe(0);
    const me = await call(engine, 'GET', '/me', stdout.trim());
    expect(me.body).toMatchObject({ role: 'registrar', clinics: [{ id: world.a.clinicId, name: 'Test clinic' }] });
  });
});
