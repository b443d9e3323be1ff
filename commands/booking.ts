/**
 * The booking commands: each is one Postgres transaction that writes the appointment's rows and the
 * outbox row saying what its process must be told (start, confirmed, checked in, visit completed).
 * The API validates, checks access, calls one of these and answers from what committed; the
 * clinical worker's relay starts or tells the process behind it. Rules: domain/booking-rules.ts.
 */
import type { Db } from '../db';
import { recordVisitDiagnosis } from '../db/diagnosis';
import type { Appointment } from '../db/schema';
import type { AppointmentView, BookingPolicy } from '../domain/booking';
import { checkInRefusal, completeRefusal } from '../domain/booking-rules';
import { refuse } from '../platform/failures';
import { confirmTx, holdSlotTx, refusal } from './booking-rows';
import { tell } from './outbox';
import { COMMAND_BUDGET_MS, commandTransaction } from './tx';

export interface BookCommand {
  appointmentId: string;
  workflowId: string;
  patientId: string;
  slotId: string;
  bookedBy: string;
  policy: BookingPolicy;
  confirm: boolean;
  /** The referral this visit serves: its process hears of the booking from the booking's process. */
  referralWorkflowId?: string;
}

export interface WaitlistCommand {
  id: string;
  patientId: string;
  specialty: string;
  practitionerId: string | null;
  clinicId: string | null;
  wantedBefore: string;
  by: string;
}

export function createBookingCommands(deps: { db: Db; taskQueue: string }) {
  const { db, taskQueue } = deps;
  const booking = { taskQueue, process: 'booking' as const };

  return {
    /**
     * Holds the slot (or books it, with `confirm`) and queues the process's start, together. The
     * same appointment id again finds the first call's appointment (`created` false) and queues nothing.
     */
    async book(input: BookCommand): Promise<{ view: AppointmentView; created: boolean }> {
      return commandTransaction(
        db,
        async (tx) => {
          const payload = { policy: input.policy, ...(input.referralWorkflowId ? { referralWorkflowId: input.referralWorkflowId } : {}) };
          // The start row is written with the appointment, in its statement (only when this call makes it).
          const start = { ...booking, kind: 'start' as const, workflowId: input.workflowId, subjectId: input.appointmentId, payload };
          return holdSlotTx(tx, { ...input, processPending: true, patientLocked: true }, start);
        },
        COMMAND_BUDGET_MS,
        // The patient's lock (holdSlotTx's first step) is taken in BEGIN's own round trip.
        { advisoryLock: input.patientId },
      );
    },

    /** held/offered → booked, and the process told; confirming a booked appointment again answers it as it is. */
    async confirm(input: { appointmentId: string; workflowId: string; by: string }): Promise<AppointmentView> {
      return commandTransaction(db, async (tx) => {
        const { view, moved } = await confirmTx(tx, input);
        if (moved) await tell(tx, { ...booking, kind: 'confirmed', workflowId: input.workflowId, subjectId: input.appointmentId });
        return view;
      });
    },

    /** The registrar checks the patient in: the process marks the visit arrived. */
    async checkIn(row: Appointment, by: string): Promise<void> {
      await commandTransaction(db, async (tx) => {
        const current = await tx.selectFrom('appointments').selectAll().where('id', '=', row.id).forShare().executeTakeFirst();
        if (!current) throw refuse('NotFound', `appointment ${row.id} does not exist`);
        const bad = checkInRefusal(current.status, current.starts_at, Date.now());
        if (bad) refusal(bad);
        await tell(tx, { ...booking, kind: 'checked_in', workflowId: current.workflow_id, subjectId: current.id, payload: { by } });
      });
    },

    /** The doctor closes an arrived visit: its diagnosis (if any) is stored first, then the process is told. */
    async completeVisit(row: Appointment, by: string, diagnosis: { code: string; title: string } | null): Promise<void> {
      const bad = completeRefusal(row.status);
      if (bad) refusal(bad);
      if (diagnosis) await recordVisitDiagnosis(db, row, { ...diagnosis, recordedBy: by });
      await commandTransaction(db, (tx) =>
        tell(tx, { ...booking, kind: 'visit_completed', workflowId: row.workflow_id, subjectId: row.id, payload: { by } }),
      );
    },

    /** Puts the patient on the waitlist; the same id again answers the first entry. */
    async joinWaitlist(w: WaitlistCommand) {
      return commandTransaction(db, async (tx) => {
        await tx
          .insertInto('waitlist_entries')
          .values({
            id: w.id,
            patient_id: w.patientId,
            specialty: w.specialty,
            practitioner_id: w.practitionerId,
            clinic_id: w.clinicId,
            wanted_before: w.wantedBefore,
            status: 'waiting',
            offered_appointment_id: null,
            created_by: w.by,
          })
          .onConflict((oc) => oc.column('id').doNothing())
          .execute();
        return tx.selectFrom('waitlist_entries').selectAll().where('id', '=', w.id).executeTakeFirstOrThrow();
      });
    },
  };
}
