/**
 * Server-sent events for the patient's pages: each second, an appointment's status and hold
 * expiry (the countdown), or the version of the appointments list; the page reloads its region
 * when the version changes (an offer arrived, a hold lapsed, the process cancelled it).
 */
import type { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { canReadPatientRecord } from '../../api/access';
import type { BookingContext } from '../../api/booking/shared';
import { ApiError } from '../../api/errors';
import type { ApiDeps } from '../../api/router';
import { patientAppointments } from '../../db/booking';
import { asApi, type WebEnv } from '../env';
import { need, page } from './common';
import { listVersion } from './appointments';

/** A stream ends after this long; EventSource reconnects by itself. */
const STREAM_MS = 5 * 60_000;

export function livePages(web: Hono<WebEnv>, deps: ApiDeps, ctx: BookingContext) {
  const { db } = deps;

  web.get(
    '/patient/appointments/events',
    need('patient'),
    page(async (c) => {
      const patientId = c.get('caller').patientId!;
      await canReadPatientRecord(asApi(c), db, patientId, { type: 'AppointmentList', id: patientId });
      return streamSSE(c, async (stream) => {
        const until = Date.now() + STREAM_MS;
        while (!stream.aborted && !stream.closed && Date.now() < until) {
          const rows = await patientAppointments(db, patientId);
          await stream.writeSSE({ event: 'state', data: JSON.stringify({ version: listVersion(rows) }) });
          await stream.sleep(1000);
        }
      });
    }),
  );

  web.get(
    '/patient/appointments/:id/events',
    need('patient'),
    page(async (c) => {
      const id = c.req.param('id') ?? '';
      if (!/^[0-9a-f-]{36}$/i.test(id)) throw new ApiError(404, 'appointment_not_found', 'No such appointment.');
      await ctx.ownAppointment(asApi(c), id, 'read');
      return streamSSE(c, async (stream) => {
        const until = Date.now() + STREAM_MS;
        while (!stream.aborted && !stream.closed && Date.now() < until) {
          const row = await db
            .selectFrom('appointments')
            .select(['status', 'hold_expires_at'])
            .where('id', '=', id)
            .executeTakeFirstOrThrow();
          await stream.writeSSE({
            event: 'state',
            data: JSON.stringify({ version: row.status, expiresAt: row.hold_expires_at?.toISOString() ?? null }),
          });
          await stream.sleep(1000);
        }
      });
    }),
  );
}
