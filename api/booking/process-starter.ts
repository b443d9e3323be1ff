/**
 * Starts booking processes right behind the API's answers (BOOKING_PROCESS_START=behind, what
 * `npm start` runs). POST /appointments commits the row, hands it here and answers at once; the
 * start waits `coalesceMs` so that a confirm arriving meanwhile is folded into it: a complete
 * booking then costs Temporal one start and one workflow task, and no signal. At most
 * `concurrency` starts are in flight, so a peak of bookings is answered from Postgres while the
 * processes follow. A start that returned stamps its row (`process_started_at`, batched); a row
 * still unstamped after `reconcileAfterSeconds` (this API crashed between answer and start, or
 * another API did) is started by the reconciler, every `reconcileEveryMs`. New bookings are
 * refused (503) while Temporal refuses starts, and while the backlog is full.
 */
import { bookingPolicy, markProcessesStarted, unstartedAppointments, appointmentView } from '../../db/booking';
import type { AppointmentView, BookingPolicy } from '../../domain/booking';
import type { Logger } from '../../platform/logger';
import { startBookingProcess, tellConfirmed, type ProcessDeps } from './process';

export interface StarterOptions {
  coalesceMs: number;
  concurrency: number;
  maxBacklog: number;
  reconcileEveryMs: number;
  reconcileAfterSeconds: number;
}

interface Pending { view: AppointmentView; policy: BookingPolicy; readyAt: number; attempts: number; sending?: Promise<void> }

export type ProcessStarter = ReturnType<typeof createProcessStarter>;

export function createProcessStarter(deps: ProcessDeps, opts: StarterOptions, log: Logger) {
  /** Appointments answered whose process has not started yet, oldest first (a Map keeps insertion order). */
  const pending = new Map<string, Pending>();
  let inFlight = 0;
  /** Since when starts fail (Temporal unreachable or refusing); null while they succeed. */
  let failingSince: number | null = null;
  let stamps: string[] = [];
  let wake: NodeJS.Timeout | undefined;
  let closed = false;

  function send(id: string, p: Pending): Promise<void> {
    inFlight++;
    p.sending = startBookingProcess(deps, p.view, p.policy).then(
      () => {
        failingSince = null;
        pending.delete(id);
        stamps.push(id);
      },
      (err: unknown) => {
        failingSince ??= Date.now();
        p.attempts++;
        p.readyAt = Date.now() + Math.min(30_000, 250 * 2 ** p.attempts);
        p.sending = undefined;
        log.warn({ appointmentId: id, attempts: p.attempts, err: String(err) }, 'booking process did not start; retrying');
      },
    ).finally(() => {
      inFlight--;
      pump();
    });
    return p.sending;
  }

  /** Sends every start that is due, up to the concurrency; wakes again for the next one due. */
  function pump(): void {
    if (closed) return;
    const now = Date.now();
    let nextDue = Infinity;
    for (const [id, p] of pending) {
      if (inFlight >= opts.concurrency) return;
      if (p.sending) continue;
      if (p.readyAt > now) nextDue = Math.min(nextDue, p.readyAt);
      else void send(id, p);
    }
    if (nextDue < Infinity) {
      clearTimeout(wake);
      wake = setTimeout(pump, Math.max(1, nextDue - now));
      wake.unref();
    }
  }

  const stamping = setInterval(() => {
    if (stamps.length === 0) return;
    const batch = stamps;
    stamps = [];
    // Lost stamps cost nothing but a second (idempotent) start by the reconciler.
    markProcessesStarted(deps.db, batch).catch((err) => log.warn({ count: batch.length, err: String(err) }, 'could not stamp started processes'));
  }, 200);
  stamping.unref();

  const reconciling = setInterval(() => void reconcile().catch((err) => log.warn({ err: String(err) }, 'reconcile failed')), opts.reconcileEveryMs);
  reconciling.unref();

  /** Rows answered but never stamped, and not waiting here: their start was lost; start them now. */
  async function reconcile(): Promise<number> {
    const rows = await unstartedAppointments(deps.db, opts.reconcileAfterSeconds, 500);
    const policies = new Map<string, BookingPolicy>();
    let found = 0;
    for (const row of rows) {
      if (pending.has(row.id)) continue;
      if (!policies.has(row.clinic_id)) policies.set(row.clinic_id, await bookingPolicy(deps.db, row.clinic_id));
      pending.set(row.id, { view: appointmentView(row), policy: policies.get(row.clinic_id)!, readyAt: 0, attempts: 0 });
      found++;
    }
    if (found) log.warn({ found }, 'started the processes of answered bookings whose start was lost');
    pump();
    return found;
  }

  return {
    /** Why a new booking must wait (503), or null: Temporal refuses starts, or too many are waiting. */
    refusal(): string | null {
      if (failingSince !== null) return 'the booking processes cannot be started right now';
      if (pending.size >= opts.maxBacklog) return 'too many bookings are waiting for their processes';
      return null;
    },

    /** The row is committed and answered: its process starts behind it (a booked one without waiting). */
    enqueue(view: AppointmentView, policy: BookingPolicy): void {
      if (pending.has(view.appointmentId)) return;
      pending.set(view.appointmentId, { view, policy, readyAt: view.status === 'booked' ? 0 : Date.now() + opts.coalesceMs, attempts: 0 });
      pump();
    },

    /**
     * The API confirmed the appointment: a start still waiting carries it (one start, no signal);
     * a process already started (or starting) hears it by signal.
     */
    async confirmed(view: AppointmentView, onLost: (err: unknown) => void): Promise<void> {
      await pending.get(view.appointmentId)?.sending?.catch(() => undefined);
      const waiting = pending.get(view.appointmentId);
      if (waiting && !waiting.sending) {
        waiting.view = view;
        waiting.readyAt = 0;
        pump();
        return;
      }
      await tellConfirmed(deps, view, onLost);
    },

    /** Before anything else asks the process: its start, if still waiting here, goes now and is awaited. */
    async flush(appointmentId: string): Promise<void> {
      const p = pending.get(appointmentId);
      if (!p) return;
      await (p.sending ?? send(appointmentId, p));
    },

    reconcile,
    backlog: () => pending.size,
    /** Is this appointment's start waiting here (or failing)? */
    has: (appointmentId: string) => pending.has(appointmentId),

    /** Stops taking work and sends what is waiting (a graceful stop); what is left, the reconciler finds. */
    async drain(timeoutMs = 10_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (pending.size > 0 && Date.now() < deadline) {
        for (const [id, p] of pending) if (!p.sending && p.attempts === 0) void send(id, p);
        await new Promise((r) => setTimeout(r, 50));
      }
      closed = true;
      clearInterval(reconciling);
      clearInterval(stamping);
      clearTimeout(wake);
      await markProcessesStarted(deps.db, stamps).catch(() => undefined);
      stamps = [];
    },
  };
}
