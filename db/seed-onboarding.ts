/**
 * The demo city's rollout: every clinic's equipment and staff, and where each stands. The three
 * pilots (PC-01..03) are in their pilot with equipment installed and staff certified; PC-04 is in
 * training (half its staff certified); PC-05..08 are in preparation with equipment on order.
 * Keyed inserts (ON CONFLICT DO NOTHING); a stage is set only on a clinic whose onboarding has not begun.
 */
import { sql } from 'kysely';
import type { Db } from './index';
import type { StaffRole } from './schema';

export const DEMO_CLINIC_CODES = ['PC-01', 'PC-02', 'PC-03', 'PC-04', 'PC-05', 'PC-06', 'PC-07', 'PC-08'] as const;
export const DEMO_PILOT_CODES = ['PC-01', 'PC-02', 'PC-03'] as const;

const EQUIPMENT: Array<{ prefix: string; kind: string; count: number }> = [
  { prefix: 'WS', kind: 'workstation', count: 6 },
  { prefix: 'TB', kind: 'doctor-tablet', count: 6 },
  { prefix: 'PR', kind: 'label-printer', count: 1 },
  { prefix: 'NW', kind: 'network-switch', count: 1 },
];
const STAFF: Array<{ prefix: string; role: StaffRole; count: number }> = [
  { prefix: 'DR', role: 'doctor', count: 6 },
  { prefix: 'NR', role: 'nurse', count: 4 },
  { prefix: 'RG', role: 'registrar', count: 3 },
  { prefix: 'LB', role: 'lab', count: 1 },
  { prefix: 'MG', role: 'manager', count: 1 },
];

export async function seedDemoOnboarding(db: Db): Promise<void> {
  await db.transaction().execute(async (tx) => {
    const clinics = await tx
      .selectFrom('clinics')
      .select(['id', 'code'])
      .where('code', 'in', [...DEMO_CLINIC_CODES])
      .execute();
    for (const c of clinics) {
      const pilot = (DEMO_PILOT_CODES as readonly string[]).includes(c.code);
      const training = c.code === 'PC-04';
      const installed = pilot || training ? sql<Date>`now() - interval '30 days'` : null;
      for (const e of EQUIPMENT) {
        for (let i = 1; i <= e.count; i++) {
          await tx
            .insertInto('equipment_items')
            .values({
              clinic_id: c.id,
              item_code: `${e.prefix}-${String(i).padStart(2, '0')}`,
              kind: e.kind,
              ordered_at: installed ?? (i % 2 ? sql<Date>`now() - interval '3 days'` : null),
              delivered_at: installed,
              installed_at: installed,
            })
            .onConflict((oc) => oc.doNothing())
            .execute();
        }
      }
      let n = 0;
      for (const s of STAFF) {
        for (let i = 1; i <= s.count; i++, n++) {
          const certified = pilot || (training && n % 2 === 0) ? sql<Date>`now() - interval '7 days'` : null;
          await tx
            .insertInto('clinic_staff')
            .values({
              clinic_id: c.id,
              staff_code: `${s.prefix}-${String(i).padStart(2, '0')}`,
              role: s.role,
              trained_at: certified,
              certified_at: certified,
            })
            .onConflict((oc) => oc.doNothing())
            .execute();
        }
      }
      if (training) {
        await tx
          .updateTable('clinics')
          .set({ rollout_stage: 'training' })
          .where('id', '=', c.id)
          .where('rollout_stage', '=', 'preparation')
          .where(({ not, exists, selectFrom }) => not(exists(selectFrom('onboarding_events').select('id').where('clinic_id', '=', c.id))))
          .execute();
      }
    }
  });
}
