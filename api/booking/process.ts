/**
 * The booking process behind an appointment the API made in Postgres. The API answers from the
 * committed row and starts (or tells) the process right behind it: a refusal costs no process,
 * and a complete booking costs Temporal one start and at most two workflow tasks.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { bookingPolicy } from '../../db/booking';
import type { Db } from '../../db';
import type { AppointmentView, BookingPolicy } from '../../domain/booking';
import { bookingWorkflow, bookingWorkflowId, confirmedSignal } from '../../workflows/booking';
import { clinicIdKey, patientIdKey, processStatusKey } from '../../workflows/search-attributes';

export interface ProcessDeps { db: Db; temporal: Client; taskQueue: string }

/**
 * Starts the process of an appointment made by the API (held or booked), once: the same
 * appointment again finds it running (USE_EXISTING) or ended (REJECT_DUPLICATE, nothing to do).
 */
export async function startBookingProcess(deps: ProcessDeps, view: AppointmentView, policy: BookingPolicy, referralWorkflowId?: string): Promise<void> {
  try {
    await deps.temporal.workflow.start(bookingWorkflow, {
      workflowId: bookingWorkflowId(view.appointmentId),
      taskQueue: deps.taskQueue,
      args: [{ appointmentId: view.appointmentId, patientId: view.patientId, clinicId: view.clinicId, policy, held: view, ...(referralWorkflowId ? { referralWorkflowId } : {}) }],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      typedSearchAttributes: [{ key: clinicIdKey, value: view.clinicId }, { key: patientIdKey, value: view.patientId }, { key: processStatusKey, value: view.status }],
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return; // it ran and ended: the row says what it left
    throw err;
  }
}

/**
 * Tells the process that the API confirmed its appointment. A process that is missing (its start
 * was lost between the hold and this call) is started with the booked view. Any other failure
 * is left to the process itself: its hold timer reads the row, finds it booked and goes on.
 */
export async function tellConfirmed(deps: ProcessDeps, view: AppointmentView, onLost: (err: unknown) => void): Promise<void> {
  try {
    await deps.temporal.workflow.getHandle(bookingWorkflowId(view.appointmentId)).signal(confirmedSignal, view);
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) return onLost(err);
    await startBookingProcess(deps, view, await bookingPolicy(deps.db, view.clinicId)).catch(onLost);
  }
}
