/**
 * The demo city's on-call roster: in every clinic, clinic-wide (department `*`), the afternoon
 * general practitioner covers, the cardiologist is head of department and the morning general
 * practitioner leads onboarding. Escalations (an unacknowledged critical value, a referral about to
 * breach, an overdue onboarding task) then reach named people in the demo, not the ops failures list.
 */
import { nameUuid } from '../domain/ids';
import type { Db } from './index';

const demoId = (key: string) => nameUuid('demo', key);

const ROSTER: Array<{ role: 'covering' | 'head' | 'onboarding-lead'; practitioner: number }> = [
  { role: 'covering', practitioner: 1 },
  { role: 'head', practitioner: 2 },
  { role: 'onboarding-lead', practitioner: 0 },
];

export async function seedDemoRoster(db: Db, clinicCodes: string[]): Promise<void> {
  for (const code of clinicCodes) {
    for (const r of ROSTER) {
      await db
        .insertInto('on_call_roster')
        .values({
          id: demoId(`roster:${code}:${r.role}`),
          clinic_id: demoId(`clinic:${code}`),
          department: '*',
          role: r.role,
          practitioner_id: demoId(`practitioner:${code}:${r.practitioner}`),
          starts_at: new Date('2026-01-01T00:00:00Z'),
          ends_at: new Date('2031-01-01T00:00:00Z'),
          created_by: 'demo-seed',
        })
        .onConflict((oc) => oc.doNothing())
        .execute();
    }
  }
}
