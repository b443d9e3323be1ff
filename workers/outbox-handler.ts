/**
 * What the outbox relay (workers/outbox-relay.ts) asks of each process it tells: one handler per
 * process slug (`booking`, `referral`, `rollout`), so a new process takes a handler and nothing in the drain.
 */
import type { Client } from '@temporalio/client';
import type { Transaction } from 'kysely';
import type { Database, OutboxProcess } from '../db/schema';
import type { Logger } from '../platform/logger';

export interface OutboxRow {
  id: string;
  workflow_id: string;
  process: OutboxProcess;
  kind: string;
  subject_id: string;
  payload: Record<string, unknown>;
}

export interface RelayStats {
  batches: number;
  rows: number;
  started: number;
  eager: number;
  folded: number;
  told: number;
  retried: number;
}

/** What a handler may use: the relay's client and queue, its pacing of starts, its counts. */
export interface RelayContext {
  client: Client;
  taskQueue: string;
  logger: Logger;
  stats: RelayStats;
  /** Waits for this start's turn under `startsPerSecond`. */
  pace(): Promise<void>;
  /** Is this workflow's start still waiting in the outbox (claimed by another relay, or backing off)? */
  startPending(workflowId: string): Promise<boolean>;
}

export interface OutboxHandler<Batch = unknown> {
  /** Reads what this process's rows of the batch need, once, in the claim's transaction. */
  load(tx: Transaction<Database>, rows: OutboxRow[]): Promise<Batch>;
  /** Delivers one process's rows in commit order; resolves to the subject whose process it started, if any. */
  deliver(rows: OutboxRow[], batch: Batch): Promise<string | undefined>;
  /** Stamps the subjects started in this batch, in the claim's transaction (after their rows are marked done). */
  stamp?(tx: Transaction<Database>, startedIds: string[]): Promise<void>;
}
