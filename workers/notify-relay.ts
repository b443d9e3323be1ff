/**
 * The delivery relay: every row a process writes to an outbox (notifications for patients,
 * lab_notifications for doctors, staff_notifications for referral and onboarding staff) becomes one
 * delivery process, `notify-<n|l|s>-<row id>`. Woken by
 * the insert trigger's NOTIFY, with a poll as backstop; rows are claimed `FOR UPDATE SKIP LOCKED`
 * and marked dispatched in the transaction that started their processes, so two relays never
 * start one twice and a crash leaves the row for the next drain (the start itself is idempotent:
 * a second start of the same id is refused and counts as done).
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import pg from 'pg';
import type { NotifyInput } from '../activities/notify';
import type { Db } from '../db';
import { inTransaction } from '../db/tx';
import { MESSAGE_KINDS, type MessageKind, type NotifyPolicy } from '../domain/notify';
import type { Logger } from '../platform/logger';
import { notifyWorkflow, notifyWorkflowId } from '../workflows/notify';

export interface DeliveryRelay {
  /** Drains what is waiting now; resolves with how many rows it dispatched. */
  drain(): Promise<number>;
  close(): Promise<void>;
}

const BATCH = 100;
const POLL_MS = 2000;
const LIMITS = { statementMs: 15_000, lockMs: 2000 };

const isKind = (k: string): k is MessageKind => (MESSAGE_KINDS as readonly string[]).includes(k);

export async function startDeliveryRelay(opts: {
  db: Db;
  client: Client;
  taskQueue: string;
  databaseUrl: string;
  policy: NotifyPolicy;
  logger: Logger;
  pollMs?: number;
}): Promise<DeliveryRelay> {
  const { db, client, logger } = opts;

  const start = async (input: NotifyInput) => {
    try {
      await client.workflow.start(notifyWorkflow, {
        workflowId: notifyWorkflowId(input.messageKey),
        taskQueue: opts.taskQueue,
        args: [input],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  };

  const drainOnce = () =>
    inTransaction(db, LIMITS, async (tx) => {
      const patients = await tx
        .selectFrom('notifications')
        .select(['id', 'patient_id', 'appointment_id', 'lab_order_id', 'kind', 'created_at'])
        .where('dispatched_at', 'is', null)
        .orderBy('created_at')
        .limit(BATCH)
        .forUpdate()
        .skipLocked()
        .execute();
      const doctors = await tx
        .selectFrom('lab_notifications')
        .select(['id', 'practitioner_id', 'lab_order_id', 'kind', 'created_at'])
        .where('dispatched_at', 'is', null)
        .orderBy('created_at')
        .limit(BATCH)
        .forUpdate()
        .skipLocked()
        .execute();
      const staff = await tx
        .selectFrom('staff_notifications')
        .select(['id', 'practitioner_id', 'clinic_id', 'referral_id', 'kind', 'created_at'])
        .where('dispatched_at', 'is', null)
        .orderBy('created_at')
        .limit(BATCH)
        .forUpdate()
        .skipLocked()
        .execute();
      const inputs: NotifyInput[] = [
        ...patients.map((r) => ({
          messageKey: `n-${r.id}`,
          kind: r.kind,
          recipient: { type: 'patient' as const, id: r.patient_id },
          decidedAt: r.created_at.toISOString(),
          refs: { appointmentId: r.appointment_id, labOrderId: r.lab_order_id, referralId: null },
          policy: opts.policy,
        })),
        ...doctors
          .filter((r) => isKind(r.kind))
          .map((r) => ({
            messageKey: `l-${r.id}`,
            kind: r.kind as MessageKind,
            recipient: r.practitioner_id ? { type: 'practitioner' as const, id: r.practitioner_id } : null,
            decidedAt: r.created_at.toISOString(),
            refs: { appointmentId: null, labOrderId: r.lab_order_id, referralId: null },
            policy: opts.policy,
          })),
        ...staff
          .filter((r) => isKind(r.kind))
          .map((r) => ({
            messageKey: `s-${r.id}`,
            kind: r.kind as MessageKind,
            recipient: r.practitioner_id ? { type: 'practitioner' as const, id: r.practitioner_id } : null,
            decidedAt: r.created_at.toISOString(),
            refs: { appointmentId: null, labOrderId: null, referralId: r.referral_id, clinicId: r.clinic_id },
            policy: opts.policy,
          })),
      ];
      await Promise.all(inputs.map(start));
      if (patients.length)
        await tx
          .updateTable('notifications')
          .set({ dispatched_at: new Date() })
          .where(
            'id',
            'in',
            patients.map((r) => r.id),
          )
          .execute();
      if (doctors.length)
        await tx
          .updateTable('lab_notifications')
          .set({ dispatched_at: new Date() })
          .where(
            'id',
            'in',
            doctors.map((r) => r.id),
          )
          .execute();
      if (staff.length)
        await tx
          .updateTable('staff_notifications')
          .set({ dispatched_at: new Date() })
          .where(
            'id',
            'in',
            staff.map((r) => r.id),
          )
          .execute();
      return patients.length + doctors.length + staff.length;
    });

  let running: Promise<number> | null = null;
  let again = false;
  const drain = async (): Promise<number> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      let total = 0;
      try {
        do {
          again = false;
          for (let n = await drainOnce(); n > 0; n = await drainOnce()) total += n;
        } while (again);
      } finally {
        running = null;
      }
      return total;
    })();
    return running;
  };
  const kick = () => {
    drain().catch((err: unknown) => logger.warn({ err: String(err) }, 'delivery relay: drain failed; the poll retries'));
  };

  const listener = new pg.Client({ connectionString: opts.databaseUrl });
  let closed = false;
  listener.on('error', (err) => {
    if (!closed) logger.warn({ err: String(err) }, 'delivery relay: LISTEN connection lost; polling only');
  });
  listener.on('notification', kick);
  try {
    await listener.connect();
    await listener.query('LISTEN delivery_outbox');
  } catch (err) {
    logger.warn({ err: String(err) }, 'delivery relay: LISTEN unavailable; polling only');
  }
  const timer = setInterval(kick, opts.pollMs ?? POLL_MS);
  kick();
  return {
    drain,
    async close() {
      closed = true;
      clearInterval(timer);
      await running?.catch(() => 0);
      await listener.end().catch(() => undefined);
    },
  };
}
