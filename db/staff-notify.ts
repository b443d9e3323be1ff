/**
 * Messages to staff that the referral and onboarding processes decide (issue 23): who is on the
 * roster at that moment, and the `staff_notifications` outbox row the delivery relay turns into a
 * delivery, written in the caller's transaction together with its timeline event.
 */
import type { Kysely } from 'kysely';
import type { StaffMessageKind } from '../domain/notify';
import { onCallAt, type RosterRole } from './notify';
import type { Database } from './schema';

/** Who a staff message went to, as the timeline event shows it (no patient data). */
export interface StaffRecipient {
  kind: StaffMessageKind;
  role: RosterRole;
  department: string;
  practitionerId: string | null;
  practitionerName: string | null;
  /** `roster`: the person on the roster at that moment; `nobody-on-roster`: the message goes to ops. */
  source: 'roster' | 'nobody-on-roster';
}

/**
 * Names the roster's person for the clinic's department (its own entry before `*`) now and writes
 * the outbox row once per `dedupeKey`. A retry of a committed step writes nothing again.
 */
export async function decideStaffMessage(
  tx: Kysely<Database>,
  m: { kind: StaffMessageKind; clinicId: string; department: string; role: RosterRole; referralId: string | null; dedupeKey: string },
): Promise<StaffRecipient> {
  const onCall = await onCallAt(tx, { clinicId: m.clinicId, department: m.department, role: m.role, at: new Date() });
  await tx
    .insertInto('staff_notifications')
    .values({
      kind: m.kind,
      clinic_id: m.clinicId,
      practitioner_id: onCall?.practitionerId ?? null,
      referral_id: m.referralId,
      dedupe_key: m.dedupeKey,
    })
    .onConflict((oc) => oc.column('dedupe_key').doNothing())
    .execute();
  return {
    kind: m.kind,
    role: m.role,
    department: m.department,
    practitionerId: onCall?.practitionerId ?? null,
    practitionerName: onCall?.fullName ?? null,
    source: onCall ? 'roster' : 'nobody-on-roster',
  };
}
