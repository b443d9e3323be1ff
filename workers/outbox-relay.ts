/**
 * The outbox relay, run by the clinical worker: drains `process_outbox` for its task queue and
 * tells each process what its command committed (docs/outbox.md).
 *   - Wakes on NOTIFY (sent at the command's commit), polls every `pollMs` as a backstop.
 *   - Claims a batch `FOR UPDATE SKIP LOCKED` (relays drain side by side), marks it done in one
 *     statement, and stamps the started appointments, all in the claim's transaction: a relay
 *     killed mid-batch leaves its rows undone, and the next drain finds them.
 *   - Folds a process's rows: a start reads the appointment as it is now, so a confirm committed
 *     before the drain rides in the start (the process begins `booked`; no signal).
 *   - Starts with eager start on the worker's own connection (the first task comes back in the
 *     start's answer), at most `concurrency` calls in flight and `startsPerSecond` starts a second.
 *   - Keeps two batches in hand: the next batch's starts fill the slots the last one's stragglers free,
 *     and each batch commits (done, stamped) as soon as its own processes are told.
 * Delivery is at least once: a start is keyed by the workflow id (a second start finds it), and the
 * booking process tolerates a repeated confirmed, check-in or completion.
 */
import { startCountingInterceptor } from '../platform/metrics';
import { Client, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { sql } from 'kysely';
import { Semaphore } from 'async-mutex';
import pg from 'pg';
import type { Db } from '../db';
import { appointmentView } from '../db/booking';
import type { Appointment } from '../db/schema';
import { inTransaction } from '../db/tx';
import type { BookingPolicy } from '../domain/booking';
import type { Config } from '../platform/config';
import type { Logger } from '../platform/logger';
import { outboxDelivered } from '../platform/metrics';
import { dataConverter } from '../platform/temporal';
import { bookingWorkflow, checkInSignal, confirmedSignal, visitCompletedSignal } from '../workflows/booking';
import { clinicIdKey, patientIdKey, processStatusKey } from '../workflows/search-attributes';

export interface RelayOptions {
  db: Db;
  client: Client;
  taskQueue: string;
  databaseUrl: string;
  logger: Logger;
  batch: number;
  concurrency: number;
  pollMs: number;
  startsPerSecond: number;
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

interface OutboxRow {
  id: string;
  workflow_id: string;
  kind: string;
  subject_id: string;
  payload: Record<string, unknown>;
}
type Outcome = { ids: string[]; startedId?: string; error?: string };

/** Batches claimed and worked at once by one relay (their starts share `concurrency`). */
const BATCHES_IN_HAND = 2;

export type OutboxRelay = ReturnType<typeof startOutboxRelay>;

export function startOutboxRelay(opts: RelayOptions) {
  const { db, client, taskQueue, logger } = opts;
  const stats: RelayStats = { batches: 0, rows: 0, started: 0, eager: 0, folded: 0, told: 0, retried: 0 };
  let running = true;
  let nextStartAt = 0;
  // Starts and signals in flight, shared by the batches in hand.
  const inFlight = new Semaphore(opts.concurrency);
  // A NOTIFY while every loop is busy is remembered, so the next idle loop drains at once rather than at the poll.
  // One idle loop is woken per NOTIFY (a commit is a row or a few); a loop that claims a full batch wakes the other.
  let notified = false;
  const waiters = new Set<() => void>();
  const wakeOne = () => {
    notified = true;
    waiters.values().next().value?.();
  };
  const wakeAll = () => {
    notified = true;
    for (const w of [...waiters]) w();
  };
  async function idle(): Promise<void> {
    if (!notified && running) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, opts.pollMs);
        waiters.add(done);
      });
    }
    notified = false;
  }

  /** Spaces starts `1/startsPerSecond` apart (a peak is answered first; its processes follow). */
  async function pace(): Promise<void> {
    if (opts.startsPerSecond <= 0) return;
    const now = Date.now();
    const at = Math.max(now, nextStartAt);
    nextStartAt = at + 1000 / opts.startsPerSecond;
    if (at > now) await new Promise((r) => setTimeout(r, at - now));
  }

  /** Is the process's start still waiting in the outbox (claimed by another relay, or backing off)? */
  async function startPending(workflowId: string): Promise<boolean> {
    const row = await db
      .selectFrom('process_outbox')
      .select('id')
      .where('workflow_id', '=', workflowId)
      .where('kind', '=', 'start')
      .where('done_at', 'is', null)
      .executeTakeFirst();
    return row !== undefined;
  }

  async function start(row: OutboxRow, appointment: Appointment): Promise<void> {
    await pace();
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
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
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
      if (await startPending(row.workflow_id)) throw err;
    }
  }

  /** One process's rows, in commit order: a start first (folding what it carries), then the tells. */
  async function handle(rows: OutboxRow[], appointments: Map<string, Appointment>): Promise<Outcome> {
    const ids = rows.map((r) => r.id);
    try {
      const appointment = appointments.get(rows[0]!.subject_id);
      const first = rows[0]!;
      let rest = rows;
      let startedId: string | undefined;
      if (first.kind === 'start') {
        // No row: the appointment was taken back before its process started; nothing to start.
        if (appointment) {
          await start(first, appointment);
          startedId = appointment.id;
        }
        // The start carried the row as it is now: a confirm committed before this drain is in it.
        const folded = rows.slice(1).filter((r) => r.kind === 'confirmed');
        stats.folded += folded.length;
        if (folded.length) outboxDelivered.inc({ outcome: 'folded' }, folded.length);
        rest = rows.slice(1).filter((r) => r.kind !== 'confirmed');
      }
      for (const r of rest) if (r.kind !== 'start') await tellOne(r, appointment);
      return { ids, startedId };
    } catch (err) {
      return { ids, error: String(err).slice(0, 500) };
    }
  }

  /** Claims one batch, tells the processes, marks it done; returns the rows it claimed. */
  async function drainBatch(): Promise<number> {
    return inTransaction(db, { statementMs: 30_000, lockMs: 5_000 }, async (tx) => {
      const rows = (await tx
        .selectFrom('process_outbox')
        .select(['id', 'workflow_id', 'kind', 'subject_id', 'payload'])
        .where('task_queue', '=', taskQueue)
        .where('done_at', 'is', null)
        .where('available_at', '<=', sql<Date>`now()`)
        .orderBy('id')
        .limit(opts.batch)
        .forUpdate()
        .skipLocked()
        .execute()) as OutboxRow[];
      if (rows.length === 0) return 0;
      const byProcess = new Map<string, OutboxRow[]>();
      for (const r of rows) byProcess.set(r.workflow_id, [...(byProcess.get(r.workflow_id) ?? []), r]);
      const subjectIds = [...new Set(rows.map((r) => r.subject_id))];
      const appointments = new Map(
        (await tx.selectFrom('appointments').selectAll().where('id', 'in', subjectIds).execute()).map((a) => [a.id, a]),
      );
      const outcomes = await Promise.all([...byProcess.values()].map((rows) => inFlight.runExclusive(() => handle(rows, appointments))));
      const done = outcomes.filter((o) => !o.error).flatMap((o) => o.ids);
      if (done.length)
        await tx
          .updateTable('process_outbox')
          .set({ done_at: sql`now()` })
          .where('id', 'in', done)
          .execute();
      const started = outcomes.flatMap((o) => (o.startedId && !o.error ? [o.startedId] : []));
      if (started.length) {
        await tx
          .updateTable('appointments')
          .set({ process_started_at: sql`now()` })
          .where('id', 'in', started)
          .where('process_started_at', 'is', null)
          .execute();
      }
      for (const o of outcomes.filter((x) => x.error)) {
        stats.retried += o.ids.length;
        outboxDelivered.inc({ outcome: 'retried' }, o.ids.length);
        logger.warn({ rows: o.ids.length, err: o.error }, 'outbox rows not delivered; retrying with backoff');
        await tx
          .updateTable('process_outbox')
          .set({
            attempts: sql`attempts + 1`,
            last_error: o.error!,
            available_at: sql`now() + make_interval(secs => least(30, 0.25 * power(2, attempts)))`,
          })
          .where('id', 'in', o.ids)
          .execute();
      }
      stats.batches++;
      stats.rows += rows.length;
      return rows.length;
    });
  }

  // LISTEN on its own connection; lost, it is opened again (the poll covers the gap).
  let listener: pg.Client | undefined;
  async function listen(): Promise<void> {
    if (!running) return;
    const c = new pg.Client({ connectionString: opts.databaseUrl });
    c.on('notification', wakeOne);
    c.on('error', () => undefined);
    c.on('end', () => {
      if (listener === c) listener = undefined;
      if (running) setTimeout(() => void listen().catch(() => undefined), 1000).unref();
    });
    try {
      await c.connect();
      await c.query('LISTEN process_outbox');
      listener = c;
    } catch {
      await c.end().catch(() => undefined);
    }
  }

  /** Drained rows are kept an hour (what was told, and when), then pruned a few thousand at a time. */
  let prunedAt = 0;
  async function prune(): Promise<void> {
    if (Date.now() - prunedAt < 60_000) return;
    prunedAt = Date.now();
    await sql`DELETE FROM process_outbox WHERE id IN (SELECT id FROM process_outbox
      WHERE done_at < now() - interval '1 hour' AND task_queue = ${taskQueue} LIMIT 5000)`.execute(db);
  }

  async function loop(first: boolean): Promise<void> {
    while (running) {
      if (first) await prune().catch((err: unknown) => logger.warn({ err: String(err) }, 'outbox prune failed'));
      let claimed = 0;
      try {
        claimed = await drainBatch();
      } catch (err) {
        logger.warn({ err: String(err) }, 'outbox drain failed; trying again');
      }
      if (claimed >= opts.batch) {
        wakeOne(); // more waiting: the other batch too, and no sleep
        continue;
      }
      await idle();
    }
  }

  const report = setInterval(() => {
    if (stats.rows > 0) logger.info({ outboxRelay: { ...stats } }, 'outbox relay');
  }, 5_000);
  report.unref();
  void listen();
  const looping = Promise.all(Array.from({ length: BATCHES_IN_HAND }, (_, i) => loop(i === 0)));

  return {
    stats: (): RelayStats => ({ ...stats }),
    /** Stops after the batch in hand (its rows are marked done, or left for the next relay). */
    async stop(): Promise<void> {
      running = false;
      wakeAll();
      clearInterval(report);
      await looping;
      await listener?.end().catch(() => undefined);
      // Once per process, at the level production logs at: how many starts were eager (bench:booking reads it).
      logger.warn({ outboxRelay: { ...stats } }, 'outbox relay stopped');
    },
  };
}

/**
 * The relay of a clinical worker: its client shares the worker's NativeConnection, which is what
 * lets the server hand a new process's first task straight back to this worker (eager start).
 */
export function startWorkerRelay(deps: {
  connection: NativeConnection;
  config: Config;
  db: Db;
  databaseUrl: string;
  logger: Logger;
}): OutboxRelay | undefined {
  const { config } = deps;
  if (config.OUTBOX_RELAY === 'off') return undefined;
  // Starts are counted like the API's were (clinical_process_start_requests_total), now on the worker's /metrics.
  const client = new Client({
    connection: deps.connection,
    namespace: config.TEMPORAL_NAMESPACE,
    dataConverter: dataConverter(config),
    interceptors: { workflow: [startCountingInterceptor()] },
  });
  return startOutboxRelay({
    db: deps.db,
    client,
    taskQueue: config.CLINICAL_TASK_QUEUE,
    databaseUrl: deps.databaseUrl,
    logger: deps.logger,
    batch: config.OUTBOX_BATCH,
    concurrency: config.OUTBOX_CONCURRENCY,
    pollMs: config.OUTBOX_POLL_MS,
    startsPerSecond: config.OUTBOX_STARTS_PER_SECOND,
  });
}
