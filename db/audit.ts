/**
 * Access audit rows (audit_log is append-only: insert and select only) and the ops queries over
 * them. Rows hold ids, roles, routes and the stated break-the-glass reason, never names or values.
 */
import { sql } from 'kysely';
import {
  CARE_POLICY,
  CLOSED_REFERRAL_STATUS,
  HOLD_STATUSES,
  OPEN_REFERRAL_STATUSES,
  ORDER_STATUSES_THAT_NEVER_GRANT,
  VISIT_STATUSES_THAT_GRANT,
  careCutoffs,
  type CarePolicy,
} from '../domain/care-relationship';
import type { Db } from './index';
import type { AuditOutcome } from './schema';

export interface AccessAuditEntry {
  actor: string;
  /** 'read', 'write' or 'break-the-glass': what was asked. */
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

/**
 * Records accesses with their outcome. A refused one is stored as action 'refused' (what was
 * asked kept in details.attempted), so no list of reads or changes ever shows it as one.
 */
export async function insertAccessAudits(db: Db, entries: AccessAuditEntry[], outcome: AuditOutcome): Promise<void> {
  if (entries.length === 0) return;
  await db
    .insertInto('audit_log')
    .values(
      entries.map((e) => ({
        actor: e.actor,
        action: outcome === 'refused' ? 'refused' : e.action,
        entity: e.resourceType,
        entity_id: e.resourceId,
        workflow_id: null,
        dedupe_key: null,
        outcome,
        details: JSON.stringify({
          kind: 'access',
          patientId: e.patientId,
          role: e.role,
          clinicIds: e.clinicIds,
          route: e.route,
          requestId: e.requestId,
          ...(outcome === 'refused' ? { attempted: e.action } : {}),
          ...(e.reason ? { reason: e.reason } : {}),
        }),
      })),
    )
    .execute();
}

export async function insertAccessAudit(db: Db, e: AccessAuditEntry): Promise<void> {
  await insertAccessAudits(db, [e], 'allowed');
}

export interface AuditRow {
  id: string;
  at: Date;
  actor: string;
  action: string;
  entity: string;
  entity_id: string;
  outcome: AuditOutcome;
  details: unknown;
}

/** Keyset page on id (bigserial: insertion order), newest first; `before` is the last row's id. */
export async function auditPage(
  db: Db,
  q: { patientId?: string; userId?: string; action?: string; before?: string; limit: number },
): Promise<AuditRow[]> {
  let query = db.selectFrom('audit_log').select(['id', 'at', 'actor', 'action', 'entity', 'entity_id', 'outcome', 'details']);
  if (q.patientId) query = query.where(sql<string>`details->>'patientId'`, '=', q.patientId).where(sql<boolean>`details ? 'patientId'`);
  if (q.userId) query = query.where('actor', '=', q.userId);
  if (q.action) query = query.where('action', '=', q.action);
  if (q.before) query = query.where('id', '<', q.before);
  return query.orderBy('id', 'desc').limit(q.limit).execute() as Promise<AuditRow[]>;
}

/**
 * Does this staff member have a care relationship with the patient now? The rule, its statuses
 * and windows are domain/care-relationship.ts (careRelationship), evaluated here in one query.
 * A doctor's relationship is personal (their visits, referrals, orders) plus attachment to their
 * clinic; a registrar's is their clinics'. Audit rows are never read: no audit row grants access.
 */
export async function hasCareRelationship(
  db: Db,
  patientId: string,
  practitionerId: string | null,
  clinicIds: string[],
  now = new Date(),
  policy: CarePolicy = CARE_POLICY,
): Promise<boolean> {
  if (!practitionerId && clinicIds.length === 0) return false;
  const clinics = `{${clinicIds.join(',')}}`;
  const prid = practitionerId;
  const doctor = practitionerId !== null;
  const cut = careCutoffs(now, policy);
  const list = (xs: readonly string[]) => `{${xs.join(',')}}`;
  const { rows } = await sql<{ ok: boolean }>`SELECT (
      EXISTS (SELECT 1 FROM appointments a WHERE a.patient_id = ${patientId}
              AND ((a.status = ANY(${list(VISIT_STATUSES_THAT_GRANT)}::text[]) AND a.ends_at > ${cut.visitEndedAfter})
                   OR (a.status = ANY(${list(HOLD_STATUSES)}::text[]) AND a.hold_expires_at > ${now}))
              AND (CASE WHEN ${doctor} THEN a.practitioner_id = ${prid}::uuid ELSE a.clinic_id = ANY(${clinics}::uuid[]) END))
   OR EXISTS (SELECT 1 FROM referrals r
              LEFT JOIN practitioners tp ON tp.id = r.target_practitioner_id
              LEFT JOIN appointments ra ON ra.id = r.appointment_id
              WHERE r.patient_id = ${patientId}
              AND (r.status = ANY(${list(OPEN_REFERRAL_STATUSES)}::text[])
                   OR (r.status = ${CLOSED_REFERRAL_STATUS} AND r.closed_at > ${cut.referralClosedAfter}))
              AND (CASE WHEN ${doctor} THEN r.referring_practitioner_id = ${prid}::uuid OR r.target_practitioner_id = ${prid}::uuid
                   ELSE r.clinic_id = ANY(${clinics}::uuid[]) OR tp.clinic_id = ANY(${clinics}::uuid[]) OR ra.clinic_id = ANY(${clinics}::uuid[]) END))
   OR EXISTS (SELECT 1 FROM lab_orders o WHERE o.patient_id = ${patientId} AND o.ordering_practitioner_id = ${prid}::uuid
              AND o.status <> ALL(${list(ORDER_STATUSES_THAT_NEVER_GRANT)}::text[])
              AND (o.acknowledged_at IS NULL OR o.acknowledged_at > ${cut.orderAcknowledgedAfter}))
   OR EXISTS (SELECT 1 FROM patient_attachments pa WHERE pa.patient_id = ${patientId} AND pa.clinic_id = ANY(${clinics}::uuid[])
              AND pa.attached_from <= ${now} AND (pa.attached_until IS NULL OR pa.attached_until > ${now}))
  ) AS ok`.execute(db);
  return rows[0]?.ok === true;
}

/** Who changed a policy, from where: the API passes it to every policy command. */
export interface PolicyChangeActor {
  actor: string;
  role: string;
  route: string;
  requestId: string | null;
  reason: string | null;
}

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
  await db
    .insertInto('audit_log')
    .values({
      actor: who.actor,
      action: 'policy-change',
      entity: c.entity,
      entity_id: c.entityId,
      workflow_id: null,
      dedupe_key: null,
      details: JSON.stringify({
        kind: 'policy',
        change: c.change,
        before: c.before,
        after: c.after,
        effectiveFrom: c.effectiveFrom,
        role: who.role,
        route: who.route,
        requestId: who.requestId,
        ...(who.reason ? { reason: who.reason } : {}),
      }),
    })
    .execute();
}

/** The policy changes to one entity, newest first. */
export async function policyChanges(db: Db, entity: Array<PolicyChange['entity']>, entityId: string, limit = 200): Promise<AuditRow[]> {
  return db
    .selectFrom('audit_log')
    .select(['id', 'at', 'actor', 'action', 'entity', 'entity_id', 'details'])
    .where('entity', 'in', entity)
    .where('entity_id', '=', entityId)
    .where('action', '=', 'policy-change')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute() as Promise<AuditRow[]>;
}
