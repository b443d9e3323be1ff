/**
 * The demo city's part for the lab bench and the doctor's tablet: an unmatched lab message, and a
 * referral whose visit is today and checked in (so the report can be written); once, however often
 * the worker starts.
 */
import { demoId } from '../db/seed';
import { DEMO_UNMATCHED_CONTROL_ID } from '../db/seed-lab-desk';
import { referralWorkflowId } from '../domain/referral';
import { seedLabDoctorDemo } from '../workers/lab-doctor-demo';
import { eventually, startTestEngine, type TestEngine } from './helpers';

let engine: TestEngine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(async () => {
  // The demo processes belong to this engine's task queue: end them with it.
  const row = await engine.db
    .selectFrom('referrals')
    .select('appointment_id')
    .where('id', '=', demoId('referral:today-report'))
    .executeTakeFirst();
  await engine.client.workflow
    .getHandle(referralWorkflowId(demoId('referral:today-report')))
    .terminate('test over')
    .catch(() => undefined);
  if (row?.appointment_id)
    await engine.client.workflow
      .getHandle(`booking-${row.appointment_id}`)
      .terminate('test over')
      .catch(() => undefined);
  await engine.stop();
});

test('the demo seeds an unmatched lab message and a referral visited today and checked in, once', async () => {
  const opts = { client: engine.client, db: engine.db, taskQueue: engine.config.CLINICAL_TASK_QUEUE };
  expect(await seedLabDoctorDemo(opts)).toEqual({ message: true, referral: 'booked and checked in' });
  const id = demoId('referral:today-report');
  const referral = await eventually(
    async () => {
      const r = await engine.db.selectFrom('referrals').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      return r.status === 'attended' ? r : undefined;
    },
    30_000,
    'referral attended',
  );
  const visit = await engine.db
    .selectFrom('appointments as a')
    .innerJoin('clinics as c', 'c.id', 'a.clinic_id')
    .select(['a.status', 'a.practitioner_id', 'a.starts_at', 'c.time_zone'])
    .where('a.id', '=', referral.appointment_id!)
    .executeTakeFirstOrThrow();
  expect(visit).toMatchObject({ status: 'arrived', practitioner_id: demoId('practitioner:PC-01:0') });
  const day = (d: Date) => d.toLocaleDateString('en-CA', { timeZone: visit.time_zone });
  expect(day(visit.starts_at)).toBe(day(new Date()));
  expect(referral).toMatchObject({
    referring_practitioner_id: demoId('practitioner:PC-01:0'),
    target_practitioner_id: demoId('practitioner:PC-01:0'),
  });

  const messages = await engine.db
    .selectFrom('lab_messages')
    .select(['status', 'ack_code', 'clinic_id'])
    .where('control_id', '=', DEMO_UNMATCHED_CONTROL_ID)
    .execute();
  expect(messages).toEqual([{ status: 'unmatched', ack_code: 'AE', clinic_id: demoId('clinic:PC-01') }]);

  // A second start changes nothing.
  expect(await seedLabDoctorDemo(opts)).toEqual({ message: false, referral: 'attended' });
  expect(
    await engine.db.selectFrom('lab_messages').select('id').where('control_id', '=', DEMO_UNMATCHED_CONTROL_ID).execute(),
  ).toHaveLength(1);
});
