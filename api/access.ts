/**
 * Who may touch which patient's data: one policy function per resource, used by every handler
 * instead of ad-hoc checks, and one audit helper that records each allowed read and write.
 *
 * - A patient: their own record only.
 * - A doctor or registrar: a patient they have a care relationship with (db/audit.ts
 *   hasCareRelationship); otherwise only by break-the-glass (header X-Break-Glass-Reason, ≥ 10
 *   characters), recorded as action 'break-the-glass' and listed for ops.
 * - Registrars and labs act only in the clinic(s) their token names (`cid`/`cids`).
 * - Admin: everything. Ops: no patient data (audit and process views only).
 *
 * Audit rows are written once the answer is known (flushAccessAudit): a request answered 2xx (or
 * 5xx, when a change may have happened) records its reads and writes as allowed; one answered 401
 * or 403 records them as refused (action 'refused'), never as a read or a change; any other 4xx
 * changed nothing and shows nothing. Access functions note the access *before* they check, so
 * every refusal of a named patient's data is on record.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { Db } from '../db';
import { hasCareRelationship, insertAccessAudits, type AccessAuditEntry } from '../db/audit';
import type { Appointment, Referral } from '../db/schema';
import type { AppEnv } from './router';
import type { Caller } from './auth';
import { ApiError } from './errors';

export const BREAK_GLASS_HEADER = 'x-break-glass-reason';
export const BREAK_GLASS_MIN = 10;

export interface Resource {
  type: string;
  id: string;
}
export interface AccessGrant {
  breakGlassReason?: string;
}

/** The clinics a caller acts for. */
export const callerClinics = (caller: Caller): string[] => caller.clinicIds ?? (caller.clinicId ? [caller.clinicId] : []);

/** Admin anywhere; a registrar or lab only in the clinic(s) on its token; nobody else acts for a clinic. */
export function canActInClinic(caller: Caller, clinicId: string): boolean {
  if (caller.role === 'admin') return true;
  if (caller.role === 'registrar' || caller.role === 'lab') return callerClinics(caller).includes(clinicId);
  return false;
}

export function assertActInClinic(caller: Caller, clinicId: string, what = 'this clinic'): void {
  if (!canActInClinic(caller, clinicId)) throw new ApiError(403, 'wrong_clinic', `Your token does not act for ${what}.`);
}

/**
 * Notes one access to patient data (who, role, clinic claims, route, request id, reason) for the
 * audit written when the answer is known; returns the entry so a grant can add its reason.
 */
export function noteAccess(
  c: Context<AppEnv>,
  a: { patientId: string; resource: Resource; action: 'read' | 'write'; reason?: string },
): AccessAuditEntry {
  const caller = c.get('caller');
  const entry: AccessAuditEntry = {
    actor: caller.id,
    action: a.reason ? 'break-the-glass' : a.action,
    resourceType: a.resource.type,
    resourceId: a.resource.id,
    patientId: a.patientId,
    role: caller.role,
    clinicIds: callerClinics(caller),
    route: `${c.req.method} ${c.req.routePath}`,
    requestId: c.get('requestId') ?? null,
    reason: a.reason,
  };
  const list = c.get('accessAudit') ?? [];
  const same = list.find(
    (e) =>
      e.patientId === entry.patientId &&
      e.resourceType === entry.resourceType &&
      e.resourceId === entry.resourceId &&
      e.action === entry.action,
  );
  if (same) return same;
  list.push(entry);
  c.set('accessAudit', list);
  return entry;
}

/** Records an access that has happened (a write after it succeeded); written with the answer. */
export async function auditAccess(
  c: Context<AppEnv>,
  _db: Db,
  a: { patientId: string; resource: Resource; action: 'read' | 'write'; reason?: string },
): Promise<void> {
  noteAccess(c, a);
}

/** Whether the noted accesses happened, by the answer's status; null: nothing happened, nothing to record. */
export function auditOutcomeOf(status: number): 'allowed' | 'refused' | null {
  if (status === 401 || status === 403) return 'refused';
  if (status < 400 || status >= 500) return 'allowed';
  return null;
}

/**
 * Writes the request's noted accesses with their outcome once the answer is known. An allowed
 * access whose audit cannot be written is not answered (the error replaces the answer); a
 * refusal is answered even so.
 */
export function flushAccessAudit(db: Db, onRefusedAuditLost: (err: unknown) => void): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    const entries = c.get('accessAudit');
    if (!entries?.length) return;
    const outcome = auditOutcomeOf(c.res.status);
    if (!outcome) return;
    const upgraded = entries.map((e) => (e.reason ? { ...e, action: 'break-the-glass' as const } : e));
    if (outcome === 'refused') await insertAccessAudits(db, upgraded, outcome).catch(onRefusedAuditLost);
    else await insertAccessAudits(db, upgraded, outcome);
  };
}

/** The stated break-the-glass reason (the header, or a page's form field), if any; too short a reason is refused. */
function breakGlassReason(c: Context<AppEnv>, stated?: string): string | undefined {
  const raw = stated ?? c.req.header(BREAK_GLASS_HEADER);
  if (raw === undefined) return undefined;
  const reason = raw.trim();
  if (reason.length < BREAK_GLASS_MIN || reason.length > 500) {
    throw new ApiError(400, 'validation_failed', `${'X-Break-Glass-Reason'} must state a reason of ${BREAK_GLASS_MIN}–500 characters.`);
  }
  return reason;
}

/** The practitioner and clinics a staff caller's relationship is looked up by. */
async function staffScope(db: Db, caller: Caller): Promise<{ practitionerId: string | null; clinics: string[] }> {
  const clinics = [...callerClinics(caller)];
  const practitionerId = caller.role === 'doctor' ? (caller.practitionerId ?? null) : null;
  if (practitionerId) {
    const p = await db.selectFrom('practitioners').select('clinic_id').where('id', '=', practitionerId).executeTakeFirst();
    if (p && !clinics.includes(p.clinic_id)) clinics.push(p.clinic_id);
  }
  return { practitionerId, clinics };
}

/**
 * May the caller read this patient's data? Throws 403 when not; on allow, audits the read
 * (as 'break-the-glass' with its reason when that is what allowed it). `statedReason`: a page's
 * break-the-glass form field, in place of the X-Break-Glass-Reason header (the same checks).
 */
export async function canReadPatientRecord(
  c: Context<AppEnv>,
  db: Db,
  patientId: string,
  resource: Resource,
  statedReason?: string,
): Promise<AccessGrant> {
  const entry = noteAccess(c, { patientId, resource, action: 'read' });
  const grant = await readGrant(c, db, patientId, statedReason);
  if (grant.breakGlassReason) entry.reason = grant.breakGlassReason;
  return grant;
}

async function readGrant(c: Context<AppEnv>, db: Db, patientId: string, statedReason?: string): Promise<AccessGrant> {
  const caller = c.get('caller');
  if (caller.role === 'admin') return {};
  if (caller.role === 'patient') {
    if (caller.patientId === patientId) return {};
    throw new ApiError(403, 'forbidden', 'Patients can read only their own records.');
  }
  if (caller.role === 'doctor' || caller.role === 'registrar') {
    const scope = await staffScope(db, caller);
    if (await hasCareRelationship(db, patientId, scope.practitionerId, scope.clinics)) return {};
    const reason = breakGlassReason(c, statedReason);
    if (reason) return { breakGlassReason: reason };
    throw new ApiError(
      403,
      'no_care_relationship',
      'You have no care relationship with this patient; state a reason in X-Break-Glass-Reason to read the record in an emergency.',
    );
  }
  throw new ApiError(403, 'forbidden', 'This role does not read patient records.');
}

/**
 * May the caller read ('read') or change ('write') this appointment? Patients their own;
 * registrars only at their clinic(s); doctors read with a care relationship (or break-the-glass)
 * and change only their own visits; admin anything. Audited on allow.
 */
export async function canActOnAppointment(c: Context<AppEnv>, db: Db, row: Appointment, action: 'read' | 'write'): Promise<AccessGrant> {
  const caller = c.get('caller');
  const resource = { type: 'Appointment', id: row.id };
  noteAccess(c, { patientId: row.patient_id, resource, action });
  if (caller.role === 'patient' && caller.patientId !== row.patient_id)
    throw new ApiError(403, 'forbidden', 'Patients can act only on their own records.');
  if (caller.role === 'registrar' && !canActInClinic(caller, row.clinic_id)) {
    if (action === 'write') throw new ApiError(403, 'wrong_clinic', "Registrars act only on their own clinic's appointments.");
    return canReadPatientRecord(c, db, row.patient_id, resource);
  }
  if (caller.role === 'doctor') {
    if (action === 'write' && caller.practitionerId !== row.practitioner_id)
      throw new ApiError(403, 'forbidden', 'Doctors complete their own visits.');
    if (action === 'read' && caller.practitionerId !== row.practitioner_id) return canReadPatientRecord(c, db, row.patient_id, resource);
  }
  if (caller.role === 'ops' || caller.role === 'lab') throw new ApiError(403, 'forbidden', 'This role does not act on appointments.');
  return {};
}

/** May the caller book for this patient at this clinic? Patients for themselves; registrars at their clinic(s). Audited. */
export async function canBookFor(c: Context<AppEnv>, db: Db, patientId: string, clinicId: string, resource: Resource): Promise<void> {
  const caller = c.get('caller');
  noteAccess(c, { patientId, resource, action: 'write' });
  if (caller.role === 'patient' && caller.patientId !== patientId)
    throw new ApiError(403, 'forbidden', 'Patients can act only on their own records.');
  if (caller.role === 'registrar') assertActInClinic(caller, clinicId, 'the clinic of this slot');
}

/** May a registrar (or admin) act on this practitioner's calendar: their clinic must be on the token. */
export async function canActForPractitioner(c: Context<AppEnv>, db: Db, practitionerId: string): Promise<void> {
  const caller = c.get('caller');
  if (caller.role !== 'registrar' && caller.role !== 'lab') return;
  const p = await db.selectFrom('practitioners').select('clinic_id').where('id', '=', practitionerId).executeTakeFirst();
  if (!p) throw new ApiError(404, 'practitioner_not_found', `Practitioner ${practitionerId} does not exist.`);
  assertActInClinic(caller, p.clinic_id, "this practitioner's clinic");
}

/** Is this referral of (referring) or for (its named practitioner works at) one of the caller's clinics? */
async function referralOfOrForClinic(db: Db, caller: Caller, row: Referral): Promise<boolean> {
  if (canActInClinic(caller, row.clinic_id)) return true;
  if (!row.target_practitioner_id) return false;
  const p = await db.selectFrom('practitioners').select('clinic_id').where('id', '=', row.target_practitioner_id).executeTakeFirst();
  return !!p && canActInClinic(caller, p.clinic_id);
}

/**
 * May the caller read or change this referral? Patients their own; registrars change only
 * referrals of or for their clinic(s); doctors read those they made or receive, others by the
 * record's rule. Handlers keep their finer checks (who acknowledges, who reports). Audited.
 */
export async function canActOnReferral(c: Context<AppEnv>, db: Db, row: Referral, action: 'read' | 'write'): Promise<AccessGrant> {
  const caller = c.get('caller');
  const resource = { type: 'ServiceRequest', id: row.id };
  noteAccess(c, { patientId: row.patient_id, resource, action });
  if (caller.role === 'patient' && caller.patientId !== row.patient_id)
    throw new ApiError(403, 'forbidden', 'Patients see only their own referrals.');
  if (caller.role === 'registrar' && !(await referralOfOrForClinic(db, caller, row))) {
    if (action === 'write') throw new ApiError(403, 'wrong_clinic', 'Registrars act only on referrals of or for their own clinic.');
    return canReadPatientRecord(c, db, row.patient_id, resource);
  }
  if (
    caller.role === 'doctor' &&
    caller.practitionerId !== row.referring_practitioner_id &&
    caller.practitionerId !== row.target_practitioner_id &&
    action === 'read'
  ) {
    return canReadPatientRecord(c, db, row.patient_id, resource);
  }
  if (caller.role === 'ops' || caller.role === 'lab') throw new ApiError(403, 'forbidden', 'This role does not act on referrals.');
  return {};
}

/** A registrar's clinic filter: the clinic asked for must be theirs; none asked → their first. Others pass through. */
export function clinicFilterFor(caller: Caller, clinicId: string | undefined): string | undefined {
  if (caller.role !== 'registrar' && caller.role !== 'lab') return clinicId;
  const wanted = clinicId ?? callerClinics(caller)[0];
  if (!wanted) throw new ApiError(403, 'wrong_clinic', 'Your token names no clinic.');
  assertActInClinic(caller, wanted, 'that clinic');
  return wanted;
}

/**
 * Who this caller may find in a patient search (GET /patients), as a predicate. Admin: anyone. A
 * registrar: the patients attached to (home clinic) or with a care relationship at one of their
 * clinics. A doctor: their care relationships (the same hasCareRelationship as the record).
 * Nobody else searches. Not audited here: the search audits each patient it answers with.
 */
export async function patientFinder(
  db: Db,
  caller: Caller,
): Promise<(patient: { id: string; home_clinic_id: string | null }) => Promise<boolean>> {
  if (caller.role === 'admin') return async () => true;
  if (caller.role !== 'registrar' && caller.role !== 'doctor') return async () => false;
  const scope = await staffScope(db, caller);
  return async (patient) => {
    if (caller.role === 'registrar' && patient.home_clinic_id && scope.clinics.includes(patient.home_clinic_id)) return true;
    return hasCareRelationship(db, patient.id, scope.practitionerId, scope.clinics);
  };
}
