/**
 * Access audit rows (audit_log is append-only: insert and select only) and the ops queries over
 * them. Rows hold ids, roles, routes and the stated break-the-glass reason, never names or values.
 */
import { sql } from 'kysely';
import type { Db } from './index';

export interface AccessAuditEntry {
  actor: string;
  /** 'read', 'write' or 'break-the-glass'. */
  action: 'read' | 'write' | 'break-the-glass';
  resourceType: string;
  resourceId: string;
  patientId: string;
  role: string;
  clinicIds: string[];
  route: string;
  requestId: string | null;
  reason?: string;
}

export async function insertAccessAudit(db: Db, e: AccessAuditEntry): Promise<void> {
  await db.insertInto('audit_log').values({
    actor: e.actor, action: e.action, entity: e.resourceType, entity_id: e.resourceId, workflow_id: null, dedupe_key: null,
    details: JSON.stringify({
      kind: 'access', patientId: e.patientId, role: e.role, clinicIds: e.clinicIds, route: e.route, requestId: e.requestId,
      ...(e.reason ? { reason: e.reason } : {}),
    }),
  }).execute();
}

export interface AuditRow { id: string; at: Date; actor: string; action: string; entity: string; entity_id: string; details: unknown }

/** Keyset page on id (bigserial: insertion order), newest first; `before` is the last row's id. */
export async function auditPage(db: Db, q: { patientId?: string; userId?: string; action?: string; before?: string; limit: number }): Promise<AuditRow[]> {
  let query = db.selectFrom('audit_log').select(['id', 'at', 'actor', 'action', 'entity', 'entity_id', 'details']);
  if (q.patientId) query = query.where(sql<string>`details->>'patientId'`, '=', q.patientId).where(sql<boolean>`details ? 'patientId'`);
  if (q.userId) query = query.where('actor', '=', q.userId);
  if (q.action) query = query.where('action', '=', q.action);
  if (q.before) query = query.where('id', '<', q.before);
  return query.orderBy('id', 'desc').limit(q.limit).execute() as Promise<AuditRow[]>;
}

/**
 * Does this staff member have a care relationship with the patient: an appointment, referral or
 * lab order of the patient by them or at one of their clinics, or a referral addressed to one of
 * their clinics (its named practitioner or its booked visit works there)?
 */
export async function hasCareRelationship(db: Db, patientId: string, practitionerId: string | null, clinicIds: string[]): Promise<boolean> {
  if (!practitionerId && clinicIds.length === 0) return false;
  const clinics = `{${clinicIds.join(',')}}`;
  const prid = practitionerId;
  const { rows } = await sql<{ ok: boolean }>`SELECT (
      EXISTS (SELECT 1 FROM appointments a WHERE a.patient_id = ${patientId}
              AND (a.practitioner_id = ${prid}::uuid OR a.clinic_id = ANY(${clinics}::uuid[])))
   OR EXISTS (SELECT 1 FROM referrals r
              LEFT JOIN practitioners tp ON tp.id = r.target_practitioner_id
              LEFT JOIN appointments ra ON ra.id = r.appointment_id
              WHERE r.patient_id = ${patientId}
              AND (r.referring_practitioner_id = ${prid}::uuid OR r.target_practitioner_id = ${prid}::uuid
                   OR r.clinic_id = ANY(${clinics}::uuid[]) OR tp.clinic_id = ANY(${clinics}::uuid[]) OR ra.clinic_id = ANY(${clinics}::uuid[])))
   OR EXISTS (SELECT 1 FROM lab_orders o WHERE o.patient_id = ${patientId}
              AND (o.ordering_practitioner_id = ${prid}::uuid OR o.clinic_id = ANY(${clinics}::uuid[])))
  ) AS ok`.execute(db);
  return rows[0]?.ok === true;
}

/** Who changed a policy, from where: the API passes it to every policy command. */
export interface PolicyChangeActor { actor: string; role: string; route: string; requestId: string | null; reason: string | null }

/** What a policy change touched: the row it wrote, and the value in force before and after. */
export interface PolicyChange {
  entity: 'referral-waiting-time' | 'lab-escalation' | 'critical-range' | 'clinic-calendar' | 'clinic-closure';
  /** The scope's key: a clinic id, `region:<code>`, `city`, a LOINC code. */
  entityId: string;
  change: string;
  before: unknown;
  after: unknown;
  effectiveFrom: string | null;
}

/** One audit_log row (action 'policy-change') per policy change, written in the change's own transaction. */
export async function insertPolicyAudit(db: Db, who: PolicyChangeActor, c: PolicyChange): Promise<void> {
  await db.insertInto('audit_log').values({
    actor: who.actor, action: 'policy-change', entity: c.entity, entity_id: c.entityId, workflow_id: null, dedupe_key: null,
    details: JSON.stringify({
      kind: 'policy', change: c.change, before: c.before, after: c.after, effectiveFrom: c.effectiveFrom, role: who.role, route: who.route,
      requestId: who.requestId, ...(who.reason ? { reason: who.reason } : {}),
    }),
  }).execute();
}

/** The policy changes to one entity, newest first. */
export async function policyChanges(db: Db, entity: Array<PolicyChange['entity']>, entityId: string, limit = 200): Promise<AuditRow[]> {
  return db.selectFrom('audit_log').select(['id', 'at', 'actor', 'action', 'entity', 'entity_id', 'details'])
    .where('entity', 'in', entity).where('entity_id', '=', entityId).where('action', '=', 'policy-change')
    .orderBy('id', 'desc').limit(limit).execute() as Promise<AuditRow[]>;
}
