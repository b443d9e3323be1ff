/**
 * The outbox relay's booking handler: starts `bookingWorkflow` with the appointment as it is at
 * drain time, folds a `confirmed` committed before the drain into that start (the process begins
 * `booked`, no signal), signals the rest (confirmed, checked in, visit completed), and stamps the
 * started appointments' `process_started_at` in the claim's transaction.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import { sql } from 'kysely';
import { appointmentView } from '../db/booking';
import type { Appointment } from '../db/schema';
import type { BookingPolicy } from '../domain/booking';
import { outboxDelivered } from '../platform/metrics';
import { bookingWorkflow, checkInSignal, confirmedSignal, visitCompletedSignal } from '../workflows/booking';
import { clinicIdKey, patientIdKey, processStatusKey } from '../workflows/search-attributes';
import type { OutboxHandler, OutboxRow, RelayContext } from './outbox-handler';

export function bookingOutboxHandler(ctx: RelayContext): OutboxHandler<Map<string, Appointment>> {
  const { client, taskQueue, logger, stats } = ctx;

  /** Starts the process; false when it had started already (a redelivered row), so it carried nothing of this drain. */
  async function start(row: OutboxRow, appointment: Appointment): Promise<boolean> {
    await ctx.pace();
    const view = appointmentView(appointment);
    const referralWorkflowId = row.payload.referralWorkflowId as string | undefined;
    try {
      const handle = await client.workflow.start(bookingWorkflow, {
        workflowId: row.workflow_id,
        taskQueue,
        args: [
          {
            appointmentId: view.appointmentId,
            patientId: view.patientId,
            clinicId: view.clinicId,
            policy: row.payload.policy as BookingPolicy,
            held: view,
            ...(referralWorkflowId ? { referralWorkflowId } : {}),
          },
        ],
        // A second start of the same appointment (a redelivered row) finds it running or ended: nothing to do.
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        requestEagerStart: true,
        typedSearchAttributes: [
          { key: clinicIdKey, value: view.clinicId },
          { key: patientIdKey, value: view.patientId },
          { key: processStatusKey, value: view.status },
        ],
      });
      stats.started++;
      if (handle.eagerlyStarted) stats.eager++;
      outboxDelivered.inc({ outcome: handle.eagerlyStarted ? 'start_eager' : 'start' });
      return true;
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      return false;
    }
  }

  /** Tells a started process one thing; a process that has ended needs telling nothing. */
  async function tellOne(row: OutboxRow, appointment: Appointment | undefined): Promise<void> {
    const handle = client.workflow.getHandle(row.workflow_id);
    const by = (row.payload.by as string | undefined) ?? 'system';
    try {
      if (row.kind === 'confirmed') {
        if (appointment) await handle.signal(confirmedSignal, appointmentView(appointment));
      } else if (row.kind === 'checked_in') {
        await handle.signal(checkInSignal, { by });
      } else if (row.kind === 'visit_completed') {
        await handle.signal(visitCompletedSignal, { by });
      } else {
        logger.warn({ kind: row.kind }, 'outbox row of an unknown kind: left done');
      }
      stats.told++;
      outboxDelivered.inc({ outcome: 'told' });
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      // Not started yet (its start is with another relay or backing off): this row waits for it.
      if (await ctx.startPending(row.workflow_id)) throw err;
    }
  }

  return {
    async load(tx, rows) {
      const ids = [...new Set(rows.map((r) => r.subject_id))];
      return new Map((await tx.selectFrom('appointments').selectAll().where('id', 'in', ids).execute()).map((a) => [a.id, a]));
    },

    /** A start first (folding the confirms it carries), then the tells. */
    async deliver(rows, appointments) {
      const appointment = appointments.get(rows[0]!.subject_id);
      const first = rows[0]!;
      let rest = rows;
      let startedId: string | undefined;
      if (first.kind === 'start') {
        // No row: the appointment was taken back before its process started; nothing to start.
        const startedNow = appointment ? await start(first, appointment) : false;
        if (appointment) startedId = appointment.id;
        rest = rows.slice(1);
        // A start made now carried the row as it is now: a confirm committed before this drain is in it. A start made
        // by an earlier drain (its relay killed before it marked the rows done) carried the row as it was then, so
        // its confirms are signalled like any other (the process ignores a confirm it already has).
        if (startedNow || !appointment) {
          const folded = rest.filter((r) => r.kind === 'confirmed');
          stats.folded += folded.length;
          if (folded.length) outboxDelivered.inc({ outcome: 'folded' }, folded.length);
          rest = rest.filter((r) => r.kind !== 'confirmed');
        }
      }
      for (const r of rest) if (r.kind !== 'start') await tellOne(r, appointment);
      return startedId;
    },

    async stamp(tx, startedIds) {
      await tx
        .updateTable('appointments')
        .set({ process_started_at: sql`now()` })
        .where('id', 'in', startedIds)
        .where('process_started_at', 'is', null)
        .execute();
    },
  };
}
