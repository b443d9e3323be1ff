/** The demo city's on-call roster (db/demo-roster.ts): escalations in the demo reach named people. */
import { createDb, type Db } from '../db';
import { onCallAt } from '../db/notify';
import { demoId } from '../db/seed';

let db: Db;
beforeAll(() => {
  db = createDb(process.env.DATABASE_URL!, 2);
});
afterAll(async () => {
  await db.destroy();
});

test.each([
  ['covering', 1],
  ['head', 2],
  ['onboarding-lead', 0],
] as const)('every demo clinic names its %s for any department', async (role, practitioner) => {
  for (const code of ['PC-01', 'PC-08']) {
    const named = await onCallAt(db, { clinicId: demoId(`clinic:${code}`), department: 'cardiology', role, at: new Date() });
    expect(named?.practitionerId).toBe(demoId(`practitioner:${code}:${practitioner}`));
  }
});
