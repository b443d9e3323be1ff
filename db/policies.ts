/**
 * Policy versions set through the admin API: referral waiting times, lab escalation steps and
 * critical ranges. Each command writes one version row and its audit row in one transaction; each
 * listing marks which version is in force at the instant asked about.
 */
import { sql } from 'kysely';
import type { WaitTime } from '../domain/calendar';
import { versionInForce } from '../domain/admin-policy';
import { DEFAULT_LAB_ORDER_POLICY } from '../domain/lab-order';
import { defaultReferralPolicy, type ReferralKind, type ReferralPolicy, type ReferralUrgency } from '../domain/referral';
import { insertPolicyAudit, type PolicyChangeActor } from './audit';
import type { Db } from './index';
import { criticalRangesInForce, labOrderPolicy } from './lab-order';
import { policyFromRow, referralPolicy } from './referral';
import type { LabCriticalRangeRow, LabEscalationPolicyRow, ReferralPolicyRow } from './schema';
import { inTransaction } from './tx';

/** Policy commands answer an admin at database speed; a lock held longer means something is wrong. */
const LIMITS = { statementMs: 5000, lockMs: 2000 };

/** Which referrals a waiting-time version covers: one clinic, one region, or the whole city. */
export type PolicyScope = { clinicId: string } | { region: string } | Record<string, never>;
const scopeKey = (s: PolicyScope) => ('clinicId' in s ? s.clinicId : 'region' in s ? `region:${s.region}` : 'city');

/** Marks, per group (same scope and key), the version in force at `at`. */
function markInForce<T extends { effective_from: Date }>(rows: readonly T[], group: (r: T) => string, at: Date) {
  const groups = new Map<string, T[]>();
  for (const r of rows) groups.set(group(r), [...(groups.get(group(r)) ?? []), r]);
  const current = new Set(
    [...groups.values()].map(
      (g) =>
        versionInForce(
          g.map((r) => ({ effectiveFrom: r.effective_from, r })),
          at,
        )?.r,
    ),
  );
  return rows.map((r): T & { inForce: boolean } => ({ ...r, inForce: current.has(r) }));
}

// ---- Referral waiting times ----

export function referralWaitView(r: ReferralPolicyRow & { inForce: boolean }) {
  return {
    id: r.id,
    clinicId: r.clinic_id,
    region: r.region,
    kind: r.kind,
    urgency: r.urgency,
    ...policyFromRow(r),
    effectiveFrom: r.effective_from.toISOString(),
    createdBy: r.created_by,
    createdAt: r.created_at.toISOString(),
    inForce: r.inForce,
  };
}

export interface ReferralWaitFilter {
  clinicId?: string;
  region?: string;
  kind?: ReferralKind;
  urgency?: ReferralUrgency;
  at: Date;
}

export async function listReferralWaitVersions(db: Db, f: ReferralWaitFilter) {
  const rows = await db
    .selectFrom('referral_policies')
    .selectAll()
    .$if(f.clinicId !== undefined, (q) => q.where('clinic_id', '=', f.clinicId!))
    .$if(f.region !== undefined, (q) => q.where('clinic_id', 'is', null).where('region', '=', f.region!))
    .$if(f.kind !== undefined, (q) => q.where('kind', '=', f.kind!))
    .$if(f.urgency !== undefined, (q) => q.where('urgency', '=', f.urgency!))
    .orderBy('kind')
    .orderBy('urgency')
    .orderBy('effective_from', 'desc')
    .limit(1000)
    .execute();
  return markInForce(rows, (r) => `${r.clinic_id ?? ''}|${r.region ?? ''}|${r.kind}|${r.urgency}`, f.at).map(referralWaitView);
}

/** The policy a scope has at `at` (before a new version): a clinic's resolved policy, a region's or the city's row, else the defaults. */
async function scopePolicy(db: Db, scope: PolicyScope, kind: ReferralKind, urgency: ReferralUrgency, at: Date): Promise<ReferralPolicy> {
  if ('clinicId' in scope) return referralPolicy(db, scope.clinicId, kind, urgency, at);
  const row = await db
    .selectFrom('referral_policies')
    .selectAll()
    .where('clinic_id', 'is', null)
    .where('kind', '=', kind)
    .where('urgency', '=', urgency)
    .where('effective_from', '<=', at)
    .where((eb) => ('region' in scope ? eb.or([eb('region', '=', scope.region), eb('region', 'is', null)]) : eb('region', 'is', null)))
    .orderBy(sql`region IS NULL`)
    .orderBy('effective_from', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? policyFromRow(row) : defaultReferralPolicy(kind, urgency);
}

export interface NewReferralWait {
  scope: PolicyScope;
  kind: ReferralKind;
  urgency: ReferralUrgency;
  wait: WaitTime;
  effectiveFrom: Date;
  escalationShare?: number;
  acknowledgeSeconds?: number;
  noShowLimit?: number;
  validityDays?: number;
}

/** Adds a waiting-time version; what it leaves out is taken from the policy the scope has at its effectiveFrom. */
export async function addReferralWaitVersion(db: Db, v: NewReferralWait, who: PolicyChangeActor) {
  return inTransaction(db, LIMITS, async (tx) => {
    const before = await scopePolicy(tx, v.scope, v.kind, v.urgency, v.effectiveFrom);
    const after: ReferralPolicy = {
      wait: v.wait,
      escalationShare: v.escalationShare ?? before.escalationShare,
      acknowledgeSeconds: v.acknowledgeSeconds ?? before.acknowledgeSeconds,
      noShowLimit: v.noShowLimit ?? before.noShowLimit,
      validityDays: v.validityDays ?? before.validityDays,
    };
    const row = await tx
      .insertInto('referral_policies')
      .values({
        clinic_id: 'clinicId' in v.scope ? v.scope.clinicId : null,
        region: 'region' in v.scope ? v.scope.region : null,
        kind: v.kind,
        urgency: v.urgency,
        wait_working_days: 'workingDays' in v.wait ? v.wait.workingDays : null,
        wait_hours: 'hours' in v.wait ? v.wait.hours : null,
        wait_seconds: 'seconds' in v.wait ? v.wait.seconds : null,
        escalation_share: after.escalationShare,
        acknowledge_seconds: after.acknowledgeSeconds,
        no_show_limit: after.noShowLimit,
        validity_days: after.validityDays,
        effective_from: v.effectiveFrom,
        created_by: who.actor,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await insertPolicyAudit(tx, who, {
      entity: 'referral-waiting-time',
      entityId: scopeKey(v.scope),
      change: `${v.kind}/${v.urgency}`,
      before,
      after,
      effectiveFrom: v.effectiveFrom.toISOString(),
    });
    return referralWaitView({ ...row, inForce: row.effective_from.getTime() <= Date.now() });
  });
}

// ---- Lab escalation steps ----

export function labEscalationView(r: LabEscalationPolicyRow & { inForce: boolean }) {
  return {
    id: r.id,
    clinicId: r.clinic_id,
    escalateCoveringSeconds: r.escalate_covering_seconds,
    escalateHeadSeconds: r.escalate_head_seconds,
    effectiveFrom: r.effective_from.toISOString(),
    createdBy: r.created_by,
    createdAt: r.created_at.toISOString(),
    inForce: r.inForce,
  };
}

export async function listLabEscalationVersions(db: Db, f: { clinicId?: string; at: Date }) {
  const rows = await db
    .selectFrom('lab_escalation_policies')
    .selectAll()
    .$if(f.clinicId !== undefined, (q) => q.where((eb) => eb.or([eb('clinic_id', '=', f.clinicId!), eb('clinic_id', 'is', null)])))
    .orderBy('clinic_id', 'desc')
    .orderBy('effective_from', 'desc')
    .limit(1000)
    .execute();
  return markInForce(rows, (r) => r.clinic_id ?? '', f.at).map(labEscalationView);
}

/** The escalation steps a scope has at `at`: a clinic's resolved lab order policy, or the city-wide version, else the defaults. */
async function escalationSteps(db: Db, clinicId: string | null, at: Date) {
  if (clinicId) {
    const p = await labOrderPolicy(db, clinicId, at);
    return { escalateCoveringSeconds: p.escalateCoveringSeconds, escalateHeadSeconds: p.escalateHeadSeconds };
  }
  const row = await db
    .selectFrom('lab_escalation_policies')
    .selectAll()
    .where('clinic_id', 'is', null)
    .where('effective_from', '<=', at)
    .orderBy('effective_from', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row
    ? { escalateCoveringSeconds: row.escalate_covering_seconds, escalateHeadSeconds: row.escalate_head_seconds }
    : {
        escalateCoveringSeconds: DEFAULT_LAB_ORDER_POLICY.escalateCoveringSeconds,
        escalateHeadSeconds: DEFAULT_LAB_ORDER_POLICY.escalateHeadSeconds,
      };
}

export interface NewLabEscalation {
  clinicId: string | null;
  escalateCoveringSeconds: number;
  escalateHeadSeconds: number;
  effectiveFrom: Date;
}

export async function addLabEscalationVersion(db: Db, v: NewLabEscalation, who: PolicyChangeActor) {
  return inTransaction(db, LIMITS, async (tx) => {
    const before = await escalationSteps(tx, v.clinicId, v.effectiveFrom);
    const row = await tx
      .insertInto('lab_escalation_policies')
      .values({
        clinic_id: v.clinicId,
        escalate_covering_seconds: v.escalateCoveringSeconds,
        escalate_head_seconds: v.escalateHeadSeconds,
        effective_from: v.effectiveFrom,
        created_by: who.actor,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await insertPolicyAudit(tx, who, {
      entity: 'lab-escalation',
      entityId: v.clinicId ?? 'city',
      change: 'escalation-steps',
      before,
      after: { escalateCoveringSeconds: v.escalateCoveringSeconds, escalateHeadSeconds: v.escalateHeadSeconds },
      effectiveFrom: v.effectiveFrom.toISOString(),
    });
    return labEscalationView({ ...row, inForce: row.effective_from.getTime() <= Date.now() });
  });
}

// ---- Critical ranges ----

export function criticalRangeView(r: LabCriticalRangeRow & { inForce: boolean }) {
  return {
    id: r.id,
    loinc: r.loinc,
    criticalLow: r.critical_low,
    criticalHigh: r.critical_high,
    effectiveFrom: r.effective_from.toISOString(),
    createdBy: r.created_by,
    createdAt: r.created_at.toISOString(),
    inForce: r.inForce,
  };
}

export async function listCriticalRangeVersions(db: Db, f: { loinc?: string; at: Date }) {
  const rows = await db
    .selectFrom('lab_critical_ranges')
    .selectAll()
    .$if(f.loinc !== undefined, (q) => q.where('loinc', '=', f.loinc!))
    .orderBy('loinc')
    .orderBy('effective_from', 'desc')
    .limit(1000)
    .execute();
  return markInForce(rows, (r) => r.loinc, f.at).map(criticalRangeView);
}

/** The test's reference bands (to check new critical limits against) and its critical limits at `at`, or undefined for an unknown LOINC. */
export async function criticalRangeContext(db: Db, loinc: string, at: Date) {
  const test = await db.selectFrom('lab_tests').select('loinc').where('loinc', '=', loinc).executeTakeFirst();
  if (!test) return undefined;
  const bands = await db
    .selectFrom('lab_reference_ranges')
    .select(['ref_low', 'ref_high', 'critical_low', 'critical_high'])
    .where('loinc', '=', loinc)
    .execute();
  const version = (await criticalRangesInForce(db, [loinc], at)).get(loinc);
  return {
    bands: bands.map((b) => ({ refLow: b.ref_low, refHigh: b.ref_high })),
    inForce: version ?? { bands: bands.map((b) => ({ criticalLow: b.critical_low, criticalHigh: b.critical_high })) },
  };
}

export interface NewCriticalRange {
  loinc: string;
  criticalLow: number | null;
  criticalHigh: number | null;
  effectiveFrom: Date;
}

export async function addCriticalRangeVersion(db: Db, v: NewCriticalRange, who: PolicyChangeActor) {
  return inTransaction(db, LIMITS, async (tx) => {
    const before = (await criticalRangeContext(tx, v.loinc, v.effectiveFrom))?.inForce ?? null;
    const row = await tx
      .insertInto('lab_critical_ranges')
      .values({
        loinc: v.loinc,
        critical_low: v.criticalLow,
        critical_high: v.criticalHigh,
        effective_from: v.effectiveFrom,
        created_by: who.actor,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await insertPolicyAudit(tx, who, {
      entity: 'critical-range',
      entityId: v.loinc,
      change: 'critical-limits',
      before,
      after: { criticalLow: v.criticalLow, criticalHigh: v.criticalHigh },
      effectiveFrom: v.effectiveFrom.toISOString(),
    });
    return criticalRangeView({ ...row, inForce: row.effective_from.getTime() <= Date.now() });
  });
}
