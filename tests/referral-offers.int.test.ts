/**
 * Offers that can be taken: a referral offers only slots its patient can book (never one clashing
 * with the patient's own visit, never on a clinic's closure day), shows where, with whom and when on
 * the clinic's clock, and stops showing a slot someone else booked, topping the list up instead.
 */
import { randomUUID } from 'node:crypto';
import { localDateTime } from '../domain/time';
import { makePatient, makeReferralClinic, makeSlot, type TestClinic } from './fixtures';
import { eventually, jsonRequest, startTestEngine, type TestEngine } from './helpers';

let engine: TestEngine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(() => engine.stop());

type Json = Record<string, any>;
async function call(method: string, path: string, token: string, body?: unknown, key?: string): Promise<{ status: number; body: Json }> {
  const init = jsonRequest(method, token, body);
  if (key) (init.headers as Record<string, string>)['idempotency-key'] = key;
  const res = await engine.app.request(path, init);
  return { status: res.status, body: (await res.json()) as Json };
}
const registrar = (clinicId: string) => engine.token('registrar', { clinicId });
const row = (id: string) => engine.db.selectFrom('referrals').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

/** A clinic whose referrals wait two hours, with a specialist to refer to. */
const referralClinic = () => makeReferralClinic(engine.db);

/** The clinic's second practitioner refers the patient to the first's specialty; resolves once the process has offered. */
async function referAndOffer(clinic: TestClinic, patientId: string): Promise<string> {
  const token = await engine.token('doctor', { id: `doctor-${clinic.otherPractitionerId}`, practitionerId: clinic.otherPractitionerId });
  const created = await call(
    'POST',
    '/referrals',
    token,
    {
      patientId,
      referringPractitionerId: clinic.otherPractitionerId,
      specialty: clinic.specialty,
      reason: 'palpitations',
      icd10: 'R00.2',
    },
    `ref-${randomUUID()}`,
  );
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  await eventually(async () => (await row(id)).status === 'offered', 30_000, 'referral offered');
  return id;
}

/** A visit of the patient booked through the booking API at the registrar's desk. */
async function bookVisit(clinic: TestClinic, slotId: string, patientId: string) {
  const booked = await call(
    'POST',
    '/appointments',
    await registrar(clinic.clinicId),
    { slotId, patientId, confirm: true },
    `visit-${randomUUID()}`,
  );
  expect(booked.status).toBe(201);
  return booked.body;
}

test("the first slot offered never clashes with the patient's own visit, so booking it succeeds", async () => {
  const clinic = await referralClinic();
  const patientId = await makePatient(engine.db);
  const start = new Date(Date.now() + 2 * 86_400_000);
  // The patient's own visit with the clinic's other doctor, and the specialist's slot at the same time.
  const ownVisitSlot = await makeSlot(engine.db, clinic, start, 30, clinic.otherPractitionerId);
  await bookVisit(clinic, ownVisitSlot.id, patientId);
  const clashing = await makeSlot(engine.db, clinic, new Date(start.getTime() + 10 * 60_000));
  const free = await makeSlot(engine.db, clinic, new Date(start.getTime() + 86_400_000));

  const id = await referAndOffer(clinic, patientId);
  const recorded = ((await row(id)).offered_slots as Json[]).map((o) => o.slotId);
  expect(recorded).not.toContain(clashing.id);
  expect(recorded[0]).toBe(free.id);

  // The answer names the clinic, the practitioner and the local time of each offer.
  const detail = await call('GET', `/referrals/${id}`, await registrar(clinic.clinicId));
  expect(detail.status).toBe(200);
  expect(detail.body.offeredSlots).toEqual([
    {
      slotId: free.id,
      clinicId: clinic.clinicId,
      clinicName: 'Test clinic',
      practitionerId: clinic.practitionerId,
      practitionerName: 'Dr Test',
      startsAt: free.startsAt.toISOString(),
      endsAt: free.endsAt.toISOString(),
      localStartsAt: localDateTime(free.startsAt, 'Europe/Moscow'),
      timeZone: 'Europe/Moscow',
      withinDeadline: false,
    },
  ]);

  const first = detail.body.offeredSlots[0].slotId as string;
  const booked = await call('POST', `/referrals/${id}/book`, await registrar(clinic.clinicId), { slotId: first });
  expect(booked).toMatchObject({ status: 201, body: { status: 'booked', slotId: free.id } });
  // Booked: nothing is left to offer.
  expect((await call('GET', `/referrals/${id}`, await registrar(clinic.clinicId))).body.offeredSlots).toEqual([]);
});

test('an offered slot someone else books leaves the queue, and the next bookable slot takes its place', async () => {
  const clinic = await referralClinic();
  const patientId = await makePatient(engine.db);
  const day = 86_400_000;
  const soon = await makeSlot(engine.db, clinic, new Date(Date.now() + 2 * day));
  const later = await makeSlot(engine.db, clinic, new Date(Date.now() + 3 * day));
  const id = await referAndOffer(clinic, patientId);
  expect(((await row(id)).offered_slots as Json[]).map((o) => o.slotId)).toEqual([soon.id, later.id]);

  // Since the offer: another patient books the first slot; a new slot opens; another falls on a closure day.
  await bookVisit(clinic, soon.id, await makePatient(engine.db));
  const opened = await makeSlot(engine.db, clinic, new Date(Date.now() + 4 * day));
  const onClosure = await makeSlot(engine.db, clinic, new Date(Date.now() + 5 * day));
  await engine.db
    .insertInto('clinic_closures')
    .values({
      clinic_id: clinic.clinicId,
      closed_on: localDateTime(onClosure.startsAt, 'Europe/Moscow').slice(0, 10),
      reason: 'sanitary day',
    })
    .execute();

  const queue = await call('GET', `/referrals/queue?clinicId=${clinic.clinicId}`, await registrar(clinic.clinicId));
  expect(queue.status).toBe(200);
  const mine = queue.body.referrals.find((r: Json) => r.id === id);
  expect(mine.offeredSlots.map((o: Json) => o.slotId)).toEqual([later.id, opened.id]);
  const detail = await call('GET', `/referrals/${id}`, await registrar(clinic.clinicId));
  expect(detail.body.offeredSlots.map((o: Json) => o.slotId)).toEqual([later.id, opened.id]);
  // Every slot shown can be taken: the first one books.
  expect(await call('POST', `/referrals/${id}/book`, await registrar(clinic.clinicId), { slotId: later.id })).toMatchObject({
    status: 201,
    body: { status: 'booked' },
  });
});

test("a queue answers each referral with its own patient's offers, and offers already made keep their place", async () => {
  const clinic = await referralClinic();
  const [clashes, fits] = [await makePatient(engine.db), await makePatient(engine.db)];
  const day = 86_400_000;
  const slots = [];
  for (let d = 2; d <= 6; d++) slots.push(await makeSlot(engine.db, clinic, new Date(Date.now() + d * day)));
  // The first patient has a visit with the other doctor at the time of the first slot.
  await bookVisit(clinic, (await makeSlot(engine.db, clinic, slots[0]!.startsAt, 30, clinic.otherPractitionerId)).id, clashes);
  const first = await referAndOffer(clinic, clashes);
  const second = await referAndOffer(clinic, fits);
  expect(((await row(second)).offered_slots as Json[]).map((o) => o.slotId)).toEqual(slots.map((s) => s.id));

  // A slot opens before all of them: the second referral's five offers stay (the list is full); the first's
  // four leave room for it.
  const earlier = await makeSlot(engine.db, clinic, new Date(Date.now() + 1.5 * day));
  const queue = await call('GET', `/referrals/queue?clinicId=${clinic.clinicId}`, await registrar(clinic.clinicId));
  expect(queue.status).toBe(200);
  const offers = (id: string) => queue.body.referrals.find((r: Json) => r.id === id).offeredSlots.map((o: Json) => o.slotId);
  expect(offers(first)).toEqual([earlier.id, ...slots.slice(1).map((s) => s.id)]);
  expect(offers(second)).toEqual(slots.map((s) => s.id));
});
