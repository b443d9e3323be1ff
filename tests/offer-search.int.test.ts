/**
 * The offer search (db/referral-offers.ts bookableOffersFor) on its own: each practitioner's slots are walked in time
 * order and the walk stops at the limit, so these pin down what that walk must still answer: earliest first across
 * practitioners, slots already offered first, a clinic not yet taking bookings left out, a named practitioner, `only`
 * and `exclude`, a taken slot skipped, and many searches in one statement each with their own answer.
 */
import { sql } from 'kysely';
import { createDb, type Db } from '../db';
import { bookableOffersFor, type OfferSearch } from '../db/referral-offers';
import { makeBookedRow, makeClinic, makePatient, makeSlot, type TestClinic } from './fixtures';

let db: Db;
beforeAll(() => {
  db = createDb(process.env.DATABASE_URL!, 2);
});
afterAll(async () => {
  await db.destroy();
});

const HOUR = 3600;

/** A live clinic with two practitioners of one specialty, and a clinic still preparing with a third; slots at the given hours from now. */
async function city() {
  const live = await makeClinic(db);
  const second = await db
    .insertInto('practitioners')
    .values({ clinic_id: live.clinicId, full_name: 'Dr Second', specialty: live.specialty })
    .returning('id')
    .executeTakeFirstOrThrow();
  const preparing = await makeClinic(db);
  await db.updateTable('clinics').set({ rollout_stage: 'preparation' }).where('id', '=', preparing.clinicId).execute();
  await db.updateTable('practitioners').set({ specialty: live.specialty }).where('id', '=', preparing.practitionerId).execute();
  const slotAt = async (clinic: TestClinic, hours: number, practitionerId = clinic.practitionerId) =>
    (await makeSlot(db, clinic, hours * HOUR, 20, practitionerId)).id;
  const first = { h1: await slotAt(live, 1), h3: await slotAt(live, 3), h5: await slotAt(live, 5), h7: await slotAt(live, 7) };
  const other = { h2: await slotAt(live, 2, second.id), h4: await slotAt(live, 4, second.id) };
  const notYet = await slotAt(preparing, 0.5);
  return { live, secondId: second.id, first, other, notYet };
}

async function search(patientId: string, specialty: string, more: Partial<OfferSearch & { prefer: string[] }> = {}) {
  const s = { patientId, specialty, targetPractitionerId: null, before: new Date(Date.now() + 24 * HOUR * 1000), limit: 3, ...more };
  return (await bookableOffersFor(db, [s]))[0]!.map((r) => r.id);
}

test('earliest first across the specialty’s practitioners, a clinic not yet booking left out', async () => {
  const c = await city();
  const patient = await makePatient(db);
  expect(await search(patient, c.live.specialty)).toEqual([c.first.h1, c.other.h2, c.first.h3]);
  expect(await search(patient, c.live.specialty, { limit: 10 })).toEqual([
    c.first.h1,
    c.other.h2,
    c.first.h3,
    c.other.h4,
    c.first.h5,
    c.first.h7,
  ]);
});

test('slots already offered come first, then the earliest others, each once', async () => {
  const c = await city();
  const patient = await makePatient(db);
  expect(await search(patient, c.live.specialty, { prefer: [c.first.h7, c.other.h2] })).toEqual([c.other.h2, c.first.h7, c.first.h1]);
  // A preferred slot at the clinic still preparing is not offered all the same.
  expect(await search(patient, c.live.specialty, { prefer: [c.notYet] })).toEqual([c.first.h1, c.other.h2, c.first.h3]);
});

test('a named practitioner, `only`, `exclude` and the deadline narrow the walk', async () => {
  const c = await city();
  const patient = await makePatient(db);
  expect(await search(patient, c.live.specialty, { targetPractitionerId: c.secondId })).toEqual([c.other.h2, c.other.h4]);
  expect(await search(patient, c.live.specialty, { only: [c.first.h5, c.other.h4, c.notYet], limit: 5 })).toEqual([c.other.h4, c.first.h5]);
  expect(await search(patient, c.live.specialty, { only: [] })).toEqual([]);
  expect(await search(patient, c.live.specialty, { exclude: [c.first.h1, c.other.h2] })).toEqual([c.first.h3, c.other.h4, c.first.h5]);
  expect(await search(patient, c.live.specialty, { before: new Date(Date.now() + 2.5 * HOUR * 1000) })).toEqual([c.first.h1, c.other.h2]);
});

test('a slot someone has booked is skipped, and many searches in one statement keep their own answers', async () => {
  const c = await city();
  const [patient, someoneElse] = [await makePatient(db), await makePatient(db)];
  const h1 = await db.selectFrom('slots').select(['id', 'starts_at', 'ends_at']).where('id', '=', c.first.h1).executeTakeFirstOrThrow();
  await makeBookedRow(db, c.live, { id: h1.id, startsAt: h1.starts_at, endsAt: h1.ends_at }, someoneElse);
  const base = { specialty: c.live.specialty, targetPractitionerId: null, before: new Date(Date.now() + 24 * HOUR * 1000), limit: 2 };
  const found = await bookableOffersFor(db, [
    { ...base, patientId: patient },
    { ...base, patientId: someoneElse, prefer: [c.first.h7] },
    { ...base, patientId: patient, only: [] },
    { ...base, patientId: patient, targetPractitionerId: c.secondId, limit: 1 },
  ]);
  expect(found.map((rows) => rows.map((r) => r.id))).toEqual([[c.other.h2, c.first.h3], [c.first.h7, c.other.h2], [], [c.other.h2]]);
});

test('the search is prepared once per connection under its name, and answers the same when reused', async () => {
  const c = await city();
  const patient = await makePatient(db);
  const oneConnection = createDb(process.env.DATABASE_URL!, 1);
  try {
    const s = {
      patientId: patient,
      specialty: c.live.specialty,
      targetPractitionerId: null,
      before: new Date(Date.now() + 86_400_000),
      limit: 2,
    };
    const answers = [];
    for (let i = 0; i < 7; i++) answers.push((await bookableOffersFor(oneConnection, [s]))[0]!.map((r) => r.id)); // past the 5 custom plans
    expect(new Set(answers.map((a) => a.join()))).toEqual(new Set([[c.first.h1, c.other.h2].join()]));
    const { rows } = await sql<{ name: string }>`SELECT name FROM pg_prepared_statements`.execute(oneConnection);
    expect(rows.map((r) => r.name)).toContain('bookable-offers');
  } finally {
    await oneConnection.destroy();
  }
});
