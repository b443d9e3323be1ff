/**
 * Patient search by name prefix, birth date and policy number, in (lower(name), id) order, a page
 * at a time. Each criterion has its index (migration 2026_12_07_0700_patient_search): the name
 * prefix matches the whole name or its last word (the family name in "First Last" order).
 */
import { sql } from 'kysely';
import type { Db } from './index';

export interface PatientSearch {
  /** Lower-cased, trimmed, single-spaced. */
  name?: string;
  birthDate?: string;
  policyNumber?: string;
  /** Resume after this row: its sort key (lower(full_name)) and id. */
  after?: { key: string; id: string };
  limit: number;
}

export interface FoundPatient {
  id: string;
  full_name: string;
  birth_date: string;
  sex: string;
  policy_number: string | null;
  home_clinic_id: string | null;
  sort_key: string;
}

/** `x` as a LIKE prefix pattern, its own % and _ taken literally. */
const prefix = (x: string) => `${x.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;

/** The same expression as the family-name index, so the planner can use it. */
const FAMILY = sql`regexp_replace(lower(p.full_name), '^.*\\s', '')`;

export async function searchPatients(db: Db, q: PatientSearch): Promise<FoundPatient[]> {
  const where = [
    ...(q.name ? [sql`(lower(p.full_name) LIKE ${prefix(q.name)} OR ${FAMILY} LIKE ${prefix(q.name)})`] : []),
    ...(q.birthDate ? [sql`p.birth_date = ${q.birthDate}::date`] : []),
    ...(q.policyNumber ? [sql`p.policy_number = ${q.policyNumber}`] : []),
    ...(q.after ? [sql`(lower(p.full_name), p.id) > (${q.after.key}, ${q.after.id}::uuid)`] : []),
  ];
  if (where.length === 0) return [];
  const { rows } = await sql<FoundPatient>`
    SELECT p.id, p.full_name, p.birth_date, p.sex, p.policy_number, p.home_clinic_id, lower(p.full_name) AS sort_key
    FROM patients p WHERE ${sql.join(where, sql` AND `)}
    ORDER BY lower(p.full_name), p.id LIMIT ${q.limit}`.execute(db);
  return rows;
}
