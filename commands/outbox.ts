/**
 * The outbox row a command writes beside the process's own rows, in the same transaction: what the
 * process must be told. The clinical worker's relay (workers/outbox-relay.ts) drains it.
 */
import type { OutboxKind, OutboxProcess } from '../db/schema';
import type { Tx } from './tx';

export interface Tell {
  taskQueue: string;
  workflowId: string;
  process: OutboxProcess;
  kind: OutboxKind;
  subjectId: string;
  payload?: Record<string, unknown>;
}

/** The row of one tell, for an insert of its own or a statement that writes it beside others. */
export function outboxValues(t: Tell) {
  return {
    task_queue: t.taskQueue,
    workflow_id: t.workflowId,
    process: t.process,
    kind: t.kind,
    subject_id: t.subjectId,
    payload: JSON.stringify(t.payload ?? {}),
  };
}

/** Queues one tell for the process (delivered at least once: the process tolerates a repeat). */
export async function tell(tx: Tx, t: Tell): Promise<void> {
  await tx.insertInto('process_outbox').values(outboxValues(t)).execute();
}
