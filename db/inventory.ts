/**
 * Loads a city's inventory from CSV: equipment items (clinic_code, item_code, kind) or staff
 * (clinic_code, staff_code, role). Every row is checked first; any bad row is reported with its
 * line number and nothing is written. Good files load in one transaction (upserts by natural key).
 */
import { parse } from 'csv-parse/sync';
import type { Db } from './index';
import type { StaffRole } from './schema';

export type InventoryKind = 'equipment' | 'staff';
export interface InventoryProblem {
  line: number;
  message: string;
}
export type InventoryResult =
  { ok: true; kind: InventoryKind; loaded: number } | { ok: false; kind: InventoryKind | null; problems: InventoryProblem[] };

const COLUMNS: Record<InventoryKind, string[]> = {
  equipment: ['clinic_code', 'item_code', 'kind'],
  staff: ['clinic_code', 'staff_code', 'role'],
};
const STAFF_ROLES: StaffRole[] = ['doctor', 'nurse', 'registrar', 'lab', 'manager'];
const CODE = /^[A-Za-z0-9_.-]{1,64}$/;

export async function loadInventory(db: Db, csv: string): Promise<InventoryResult> {
  let records: Array<{ record: Record<string, string>; info: { lines: number } }>;
  try {
    records = parse(csv, {
      columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
      skip_empty_lines: true,
      trim: true,
      info: true,
      bom: true,
    }) as never;
  } catch (err) {
    const e = err as { lines?: number; message: string };
    return { ok: false, kind: null, problems: [{ line: e.lines ?? 0, message: e.message }] };
  }
  const header = Object.keys(records[0]?.record ?? {});
  const kind = (Object.keys(COLUMNS) as InventoryKind[]).find((k) => COLUMNS[k].every((c) => header.includes(c)));
  if (!kind)
    return {
      ok: false,
      kind: null,
      problems: [
        { line: 1, message: `the header must name ${COLUMNS.equipment.join(',')} (equipment) or ${COLUMNS.staff.join(',')} (staff)` },
      ],
    };

  const clinics = new Map((await db.selectFrom('clinics').select(['id', 'code']).execute()).map((c) => [c.code, c.id]));
  const problems: InventoryProblem[] = [];
  const seen = new Set<string>();
  const rows = records.map(({ record, info }) => {
    const line = info.lines;
    const clinicId = clinics.get(record.clinic_code ?? '');
    const code = kind === 'equipment' ? record.item_code : record.staff_code;
    const value = kind === 'equipment' ? record.kind : record.role;
    if (!clinicId) problems.push({ line, message: `unknown clinic_code "${record.clinic_code ?? ''}"` });
    if (!code || !CODE.test(code))
      problems.push({ line, message: `${kind === 'equipment' ? 'item_code' : 'staff_code'} must be 1–64 letters, digits or _.-` });
    if (kind === 'equipment' && (!value || value.length > 100))
      problems.push({ line, message: 'kind is required (at most 100 characters)' });
    if (kind === 'staff' && !STAFF_ROLES.includes(value as StaffRole))
      problems.push({ line, message: `role must be one of ${STAFF_ROLES.join(', ')}` });
    const key = `${record.clinic_code}:${code}`;
    if (seen.has(key)) problems.push({ line, message: `${key} appears twice in the file` });
    seen.add(key);
    return { clinicId: clinicId!, code: code!, value: value! };
  });
  if (problems.length) return { ok: false, kind, problems };

  await db.transaction().execute(async (tx) => {
    for (const r of rows) {
      if (kind === 'equipment') {
        await tx
          .insertInto('equipment_items')
          .values({ clinic_id: r.clinicId, item_code: r.code, kind: r.value, ordered_at: null, delivered_at: null, installed_at: null })
          .onConflict((oc) => oc.columns(['clinic_id', 'item_code']).doUpdateSet({ kind: r.value }))
          .execute();
      } else {
        await tx
          .insertInto('clinic_staff')
          .values({ clinic_id: r.clinicId, staff_code: r.code, role: r.value as StaffRole, trained_at: null, certified_at: null })
          .onConflict((oc) => oc.columns(['clinic_id', 'staff_code']).doUpdateSet({ role: r.value as StaffRole }))
          .execute();
      }
    }
  });
  return { ok: true, kind, loaded: rows.length };
}
