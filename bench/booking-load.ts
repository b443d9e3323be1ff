/**
 * Complete bookings through the HTTP API with autocannon: each connection takes the next
 * (slot, patient) job, books it (POST /appointments) and confirms it (POST …/confirm), or books
 * and confirms in one call (`"confirm": true`, the registrar's desk). Every request has its own
 * body and Idempotency-Key; per-call latencies are timed in setupRequest/onResponse (one request
 * in flight per connection), since autocannon's own histogram mixes both calls.
 */
import autocannon from 'autocannon';
import { percentile } from './stack';

export interface BookingJob {
  slotId: string;
  patientId: string;
}
export type BookingMode = 'two-call' | 'one-call';

export interface LoadResult {
  mode: BookingMode;
  clients: number;
  bookings: number;
  completed: number;
  failures: Record<string, number>;
  seconds: number;
  completePerSecond: number;
  bookP50: number;
  bookP99: number;
  confirmP50?: number;
  confirmP99?: number;
  /** Appointment ids that ended booked, for the Temporal catch-up check. */
  bookedIds: string[];
}

interface Ctx {
  job?: BookingJob;
  id?: string;
  t0?: number;
}

/** autocannon gives each connection amount/connections requests: whole bookings only when the jobs divide evenly. */
export const evenJobs = (count: number, clients: number) => Math.ceil(count / clients) * clients;

export async function runBookingLoad(opts: {
  apiUrl: string;
  token: string;
  jobs: BookingJob[];
  clients: number;
  mode: BookingMode;
  keyPrefix: string;
}): Promise<LoadResult> {
  const { jobs, mode } = opts;
  if (jobs.length % opts.clients !== 0) throw new RangeError(`${jobs.length} jobs do not divide among ${opts.clients} clients (evenJobs)`);
  let next = 0;
  const book: number[] = [];
  const confirm: number[] = [];
  const failures: Record<string, number> = {};
  const bookedIds: string[] = [];
  const fail = (call: string, status: number, body: string) => {
    let code = '';
    try {
      code = (JSON.parse(body) as { error?: { code?: string } }).error?.code ?? '';
    } catch {
      /* not JSON */
    }
    const key = `${call} ${status}${code ? ` ${code}` : ''}`;
    failures[key] = (failures[key] ?? 0) + 1;
  };
  const headers = { authorization: `Bearer ${opts.token}`, 'content-type': 'application/json' };
  const bookRequest: autocannon.Request = {
    method: 'POST',
    path: '/appointments',
    setupRequest: (req, context) => {
      const ctx = context as Ctx;
      // Built once per connection ahead of sending, and once more after its last answer (never sent).
      const job = jobs[next++];
      if (!job) return req;
      ctx.job = job;
      ctx.id = undefined;
      ctx.t0 = performance.now();
      return {
        ...req,
        headers: { ...headers, 'idempotency-key': `${opts.keyPrefix}-${next}` },
        body: JSON.stringify({ slotId: job.slotId, patientId: job.patientId, ...(mode === 'one-call' ? { confirm: true } : {}) }),
      };
    },
    onResponse: (status, body, context) => {
      const ctx = context as Ctx;
      book.push(performance.now() - ctx.t0!);
      if (status !== 201) return fail('book', status, body);
      const view = JSON.parse(body) as { id: string; status: string };
      ctx.id = view.id;
      if (mode === 'one-call' && view.status === 'booked') bookedIds.push(view.id);
    },
  };
  const confirmRequest: autocannon.Request = {
    method: 'POST',
    setupRequest: (req, context) => {
      const ctx = context as Ctx;
      ctx.t0 = performance.now();
      // A refused booking has nothing to confirm: a confirm of a made-up id is answered 404 and counted.
      return { ...req, path: `/appointments/${ctx.id ?? '00000000-0000-4000-8000-000000000000'}/confirm`, headers };
    },
    onResponse: (status, body, context) => {
      const ctx = context as Ctx;
      confirm.push(performance.now() - ctx.t0!);
      if (status !== 200) return fail('confirm', status, body);
      bookedIds.push((JSON.parse(body) as { id: string }).id);
    },
  };
  const requests = mode === 'two-call' ? [bookRequest, confirmRequest] : [bookRequest];
  const result = await autocannon({
    url: opts.apiUrl,
    connections: opts.clients,
    pipelining: 1,
    amount: jobs.length * requests.length,
    timeout: 30,
    requests,
  });
  const seconds = result.duration;
  return {
    mode,
    clients: opts.clients,
    bookings: jobs.length,
    completed: bookedIds.length,
    failures,
    seconds,
    completePerSecond: +(bookedIds.length / seconds).toFixed(1),
    bookP50: +percentile(book, 50).toFixed(1),
    bookP99: +percentile(book, 99).toFixed(1),
    ...(mode === 'two-call' ? { confirmP50: +percentile(confirm, 50).toFixed(1), confirmP99: +percentile(confirm, 99).toFixed(1) } : {}),
    bookedIds,
  };
}

/** Many clients at once for one slot, each for another patient: how fast are all answered, the losers above all? */
export async function runSlotRace(opts: { apiUrl: string; token: string; slotId: string; patientIds: string[]; keyPrefix: string }) {
  const started = performance.now();
  const answers = await Promise.all(
    opts.patientIds.map(async (patientId, i) => {
      const t0 = performance.now();
      const res = await fetch(`${opts.apiUrl}/appointments`, {
        method: 'POST',
        headers: { authorization: `Bearer ${opts.token}`, 'content-type': 'application/json', 'idempotency-key': `${opts.keyPrefix}-${i}` },
        body: JSON.stringify({ slotId: opts.slotId, patientId }),
      });
      const text = await res.text();
      let code = '';
      try {
        code = (JSON.parse(text) as { error?: { code?: string } }).error?.code ?? '';
      } catch {
        /* not JSON */
      }
      return { status: res.status, code, ms: performance.now() - t0 };
    }),
  );
  const losers = answers.filter((a) => a.status === 409).map((a) => a.ms);
  const answered: Record<string, number> = {};
  for (const a of answers)
    answered[`${a.status}${a.code ? ` ${a.code}` : ''}`] = (answered[`${a.status}${a.code ? ` ${a.code}` : ''}`] ?? 0) + 1;
  return {
    clients: opts.patientIds.length,
    allAnsweredMs: Math.round(performance.now() - started),
    won: answers.filter((a) => a.status === 201).length,
    lost: losers.length,
    other: answers.length - answers.filter((a) => a.status === 201 || a.status === 409).length,
    answers: Object.entries(answered)
      .map(([k, v]) => `${k}×${v}`)
      .join(', '),
    loserP50: +percentile(losers, 50).toFixed(1),
    loserP99: +percentile(losers, 99).toFixed(1),
  };
}
