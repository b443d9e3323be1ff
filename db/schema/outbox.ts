/** The transactional outbox (migration 2026_12_08_0100_process_outbox): what each process must be told. */
import type { ColumnType, Generated } from 'kysely';

export type OutboxKind = 'start' | 'confirmed' | 'checked_in' | 'visit_completed';
/** The process a row is for: the relay has one handler per process (workers/outbox-*.ts). */
export type OutboxProcess = 'booking' | 'referral' | 'rollout';

export interface ProcessOutboxTable {
  id: Generated<string>;
  task_queue: string;
  workflow_id: string;
  /** The process slug: `booking`, `referral` or `rollout` (a rollout program). */
  process: OutboxProcess;
  kind: OutboxKind;
  /** The process's own record (an appointment id, a referral id, a rollout program id). */
  subject_id: string;
  payload: ColumnType<Record<string, unknown>, string | undefined, never>;
  created_at: ColumnType<Date, never, never>;
  available_at: ColumnType<Date, Date | undefined, Date>;
  attempts: ColumnType<number, never, number>;
  last_error: string | null;
  done_at: ColumnType<Date | null, never, Date | null>;
}
