/**
 * The outbox relay, run by the clinical worker: drains `process_outbox` for its task queue and
 * tells each process what its command committed (docs/outbox.md).
 *   - Wakes on NOTIFY (sent at the command's commit), polls every `pollMs` as a backstop.
 *   - Claims a batch `FOR UPDATE SKIP LOCKED` (relays drain side by side), marks it done in one
 *     statement, and stamps the started appointments, all in the claim's transaction: a relay
 *     killed mid-batch leaves its rows undone, and the next drain finds them.
 *   - Hands each process's rows, in commit order, to its process's handler: booking
 *     (workers/outbox-booking.ts: folds a confirm into the start, signals the rest, stamps the
 *     appointment), referral (workers/outbox-referral.ts: starts the process with its input) and
 *     rollout (workers/outbox-program.ts: starts the rollout program with its input).
 *   - Starts with eager start on the worker's own connection (the first task comes back in the
 *     start's answer), at most `concurrency` calls in flight and `startsPerSecond` starts a second.
 *   - Keeps two batches in hand: the next batch's starts fill the slots the last one's stragglers free,
 *     and each batch commits (done, stamped) as soon as its own processes are told.
 * Delivery is at least once: a start is keyed by the workflow id (a second start finds it), and the
 * booking process tolerates a repeated confirmed, check-in or completion. A row of a process with
 * no handler is logged and left done.
 */
import { startCountingInterceptor } from '../platform/metrics';
import { Client } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { sql } from 'kysely';
import { Semaphore } from 'async-mutex';
import pg from 'pg';
import type { Db } from '../db';
import { processStartPending } from '../db/outbox';
import type { OutboxProcess } from '../db/schema';
import { inTransaction } from '../db/tx';
import type { Config } from '../platform/config';
import type { Logger } from '../platform/logger';
import { outboxDelivered } from '../platform/metrics';
import { dataConverter } from '../platform/temporal';
import { bookingOutboxHandler } from './outbox-booking';
import type { OutboxHandler, OutboxRow, RelayContext, RelayStats } from './outbox-handler';
import { programOutboxHandler } from './outbox-program';
import { referralOutboxHandler } from './outbox-referral';

export type { RelayStats } from './outbox-handler';

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

type Outcome = { process: OutboxProcess; ids: string[]; startedId?: string; error?: string };

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

  const ctx: RelayContext = { client, taskQueue, logger, stats, pace, startPending: (id) => processStartPending(db, id) };
  const handlers: Record<OutboxProcess, OutboxHandler> = {
    booking: bookingOutboxHandler(ctx),
    referral: referralOutboxHandler(ctx),
    rollout: programOutboxHandler(ctx),
  };

  /** One process's rows, in commit order, through its process's handler. */
  async function handle(rows: OutboxRow[], loaded: Map<OutboxProcess, unknown>): Promise<Outcome> {
    const process = rows[0]!.process;
    const ids = rows.map((r) => r.id);
    const handler = handlers[process] as OutboxHandler | undefined;
    if (!handler) {
      logger.warn({ process }, 'outbox rows of an unknown process: left done');
      return { process, ids };
    }
    try {
      return { process, ids, startedId: await handler.deliver(rows, loaded.get(process)) };
    } catch (err) {
      return { process, ids, error: String(err).slice(0, 500) };
    }
  }

  /** Claims one batch, tells the processes, marks it done; returns the rows it claimed. */
  async function drainBatch(): Promise<number> {
    return inTransaction(db, { statementMs: 30_000, lockMs: 5_000 }, async (tx) => {
      const rows = (await tx
        .selectFrom('process_outbox')
        .select(['id', 'workflow_id', 'process', 'kind', 'subject_id', 'payload'])
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
      // What each process's rows need (the booking's appointments), read once for the batch.
      const loaded = new Map<OutboxProcess, unknown>();
      for (const process of new Set(rows.map((r) => r.process))) {
        const handler = handlers[process] as OutboxHandler | undefined;
        if (handler)
          loaded.set(
            process,
            await handler.load(
              tx,
              rows.filter((r) => r.process === process),
            ),
          );
      }
      // Both batches in hand share `concurrency` calls in flight.
      const outcomes = await Promise.all([...byProcess.values()].map((group) => inFlight.runExclusive(() => handle(group, loaded))));
      const done = outcomes.filter((o) => !o.error).flatMap((o) => o.ids);
      if (done.length)
        await tx
          .updateTable('process_outbox')
          .set({ done_at: sql`now()` })
          .where('id', 'in', done)
          .execute();
      for (const [process, handler] of Object.entries(handlers) as Array<[OutboxProcess, OutboxHandler]>) {
        const started = outcomes.flatMap((o) => (o.process === process && o.startedId && !o.error ? [o.startedId] : []));
        if (started.length && handler.stamp) await handler.stamp(tx, started);
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
