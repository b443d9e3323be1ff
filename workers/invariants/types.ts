/**
 * What every invariant rule shares: the checker's context (clocks, scope, Temporal look-ups) and
 * the shape of what a rule returns. Rules report ids only, never names, birth dates or values.
 */
import type { Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema';
import type { TemporalView } from './temporal';

export interface Violation {
  /** Stable rule name, e.g. 'booking-open-not-running' (see RULES in workers/invariants.ts). */
  rule: string;
  /** Opaque ids only: appointmentId, slotId, patientId, referralId, labOrderId, workflowId, clinicId… */
  ids: Record<string, string>;
  message: string;
}

/** One rule's outcome: how many rows or processes it looked at, and what it found. */
export interface RuleResult {
  rule: string;
  checked: number;
  violations: Violation[];
}

export interface InvariantOptions {
  /**
   * Rows and workflows changed more recently than this are not judged (a process just started or
   * just finishing may disagree with its row for a moment). Default 10 000 ms.
   */
  settleMs?: number;
  /** Only these clinics' rows (tests, or one site of a shared database). Default: every clinic. */
  clinicIds?: string[];
  /** Only workflows on this task queue (tests run each engine on its own queue). Default: every queue. */
  taskQueue?: string;
}

export interface CheckDeps {
  db: Kysely<Database>;
  temporal: Client;
  namespace: string;
}

export interface Ctx extends CheckDeps {
  /** The database's clock when the check began. */
  now: Date;
  /** Rows changed after this, and workflows started after it, are still settling. */
  settledBefore: Date;
  clinicIds: string[] | null;
  taskQueue: string | null;
  temporalView: TemporalView;
}

export const isSettled = (ctx: Ctx, changedAt: Date | null | undefined) =>
  changedAt == null || changedAt.getTime() < ctx.settledBefore.getTime();
