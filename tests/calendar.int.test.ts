/**
 * The official production calendar at work: a routine referral made on 14 December 2026 in the demo
 * city is due after 31 December and the New Year holidays, counted by hand; a deadline counted into a
 * year without decree data is reported on /health (warning `calendar`) and in /metrics.
 */
import { missingDecreeYears } from '../domain/calendar';
import { defaultReferralPolicy } from '../domain/referral';
import { referralDeadline } from '../db/referral';
import { demoId } from '../db/seed';
import { startTestEngine, type TestEngine } from './helpers';

let engine: TestEngine;
beforeAll(async () => {
  engine = await startTestEngine({ clinicalWorker: false });
});
afterAll(() => engine.stop());

const health = async () => {
  const res = await engine.app.request('/health');
  return { status: res.status, body: (await res.json()) as Record<string, any> };
};

test('a routine referral made on Monday 14 December 2026 in the demo city is due at the end of Tuesday 12 January 2027', async () => {
  // By hand, Moscow: Dec 15–18 (4), 21–25 (9), 28–30 (12); Thu 31 Dec off (decree No. 1466 moved Sun 4 Jan there);
  // 1–8 Jan 2027 off (Labour Code art. 112), 9–10 Jan a weekend; Mon 11 Jan (13), Tue 12 Jan (14).
  const policy = defaultReferralPolicy('specialist', 'routine');
  expect(policy.wait).toEqual({ workingDays: 14 });
  const deadline = await referralDeadline(engine.db, demoId('clinic:PC-01'), new Date('2026-12-14T07:00:00Z'), policy);
  expect(deadline.toISOString()).toBe('2027-01-12T21:00:00.000Z'); // midnight at the end of 12 Jan in Moscow
});

test('a deadline counted into a year without decree data raises the calendar warning and the ops counter', async () => {
  const before = await health();
  expect(before.body.calendar).toMatchObject({
    decreeYears: { RU: [2025, 2026, 2027] },
    missingYears: { RU: missingDecreeYears('RU', new Date()) },
  });
  const countedBefore: number = before.body.calendar.deadlinesWithoutDecree;

  // 14 working days from 27 December 2027 run into 2028, which has no decree yet.
  await referralDeadline(
    engine.db,
    demoId('clinic:PC-01'),
    new Date('2027-12-27T07:00:00Z'),
    defaultReferralPolicy('specialist', 'routine'),
  );

  const after = await health();
  expect(after.status).toBe(200); // a warning, not an outage: the deadline was still counted (by date-holidays)
  expect(after.body.warnings).toEqual(['calendar']);
  expect(after.body.calendar).toMatchObject({ up: false, deadlinesWithoutDecree: countedBefore + 1 });
  const metrics = await (
    await engine.app.request('/metrics', { headers: { authorization: `Bearer ${await engine.token('ops')}` } })
  ).text();
  expect(metrics).toMatch(/clinical_calendar_deadlines_without_decree_total\{what="referral",year="2028"\} 1/);
  expect(metrics).toMatch(/clinical_calendar_years_missing\{country="RU"\} \d/);
});
