/**
 * The patient's appointments: the list (with the waitlist), one appointment with its hold's
 * countdown, and its actions: confirm (or accept an offer), cancel, reschedule.
 */
import { randomUUID } from 'node:crypto';
import type { Hono } from 'hono';
import type { BookingCommands } from '../../api/booking/commands';
import { LocalDate, type BookingContext } from '../../api/booking/shared';
import { canReadPatientRecord } from '../../api/access';
import { ApiError } from '../../api/errors';
import type { ApiDeps } from '../../api/router';
import { appointmentView, patientAppointments, searchFreeSlots } from '../../db/booking';
import { namesFor, patientName, patientWaitlist, slotContext } from '../../db/web-views';
import type { Appointment } from '../../db/schema';
import { localDateTime } from '../../domain/time';
import { asApi, type WebContext, type WebEnv } from '../env';
import { errorText, formatDate, formatDateTime } from '../i18n';
import { CsrfField, Layout } from '../layout';
import { checkCsrf, formOf, need, page } from './common';
import { SlotList } from './booking';

const LIVE = ['held', 'offered', 'booked', 'arrived'];
const UUID = /^[0-9a-f-]{36}$/i;
type Names = Awaited<ReturnType<typeof namesFor>>;

/** The list's version: any status change (an offer arriving, a hold lapsing) changes it. */
export const listVersion = (rows: Pick<Appointment, 'id' | 'status'>[]) => rows.map((r) => `${r.id.slice(0, 8)}:${r.status}`).join(',');

function AppointmentCard(props: { c: WebContext; row: Appointment; names: Names }) {
  const { c, row, names } = props;
  const t = c.get('t');
  const clinic = names.clinics.get(row.clinic_id);
  const doctor = names.practitioners.get(row.practitioner_id);
  const zone = clinic?.timeZone ?? 'UTC';
  return (
    <li data-appointment={row.id} data-status={row.status}>
      <a href={`/patient/appointments/${row.id}`}>
        <time datetime={row.starts_at.toISOString()}>{formatDateTime(c.get('lang'), row.starts_at, zone)}</time>
      </a>
      <span class="muted"> · {t.clinicTime(zone)}</span>
      <div>
        {doctor?.name} · {doctor?.specialty} · {clinic?.name}
      </div>
      <div class="status">{t.appointmentStatus[row.status] ?? row.status}</div>
    </li>
  );
}

/** The patient's home: greeting, the next visit, and where to go. */
export async function patientHome(c: WebContext, deps: ApiDeps) {
  const t = c.get('t');
  const patientId = c.get('caller').patientId!;
  await canReadPatientRecord(asApi(c), deps.db, patientId, { type: 'AppointmentList', id: patientId });
  const [name, rows] = await Promise.all([patientName(deps.db, patientId), patientAppointments(deps.db, patientId, 20)]);
  const upcoming = rows
    .filter((r) => LIVE.includes(r.status) && r.ends_at.getTime() > Date.now())
    .sort((a, b) => a.starts_at.getTime() - b.starts_at.getTime());
  const names = await namesFor(deps.db, {
    clinicIds: upcoming.map((r) => r.clinic_id),
    practitionerIds: upcoming.map((r) => r.practitioner_id),
  });
  return c.html(
    <Layout c={c} title={t.hello(name ?? '')}>
      <h2>{t.nextVisit}</h2>
      {upcoming.length ? (
        <ul class="cards">
          {upcoming.slice(0, 3).map((r) => (
            <AppointmentCard c={c} row={r} names={names} />
          ))}
        </ul>
      ) : (
        <p>{t.noVisits}</p>
      )}
      <div class="actions">
        <a class="button" href="/patient/book">
          {t.findSlot}
        </a>
        <a class="button secondary" href="/patient/appointments">
          {t.myAppointments}
        </a>
      </div>
    </Layout>,
  );
}

export function appointmentPages(web: Hono<WebEnv>, deps: ApiDeps, ctx: BookingContext, commands: BookingCommands) {
  const { db } = deps;

  web.get(
    '/patient/appointments',
    need('patient'),
    page(async (c) => {
      const t = c.get('t');
      const patientId = c.get('caller').patientId!;
      await canReadPatientRecord(asApi(c), db, patientId, { type: 'AppointmentList', id: patientId });
      const [rows, waiting] = await Promise.all([patientAppointments(db, patientId), patientWaitlist(db, patientId)]);
      const names = await namesFor(db, { clinicIds: rows.map((r) => r.clinic_id), practitionerIds: rows.map((r) => r.practitioner_id) });
      const lang = c.get('lang');
      return c.html(
        <Layout c={c} title={t.myAppointments} notice={c.req.query('done') === 'waitlist' ? t.waitlistJoined : undefined}>
          <div data-live="/patient/appointments/events" data-version={listVersion(rows)}>
            {rows.length ? (
              <ul class="cards">
                {rows.map((r) => (
                  <AppointmentCard c={c} row={r} names={names} />
                ))}
              </ul>
            ) : (
              <p>{t.noVisits}</p>
            )}
          </div>
          <h2>{t.waitlist}</h2>
          {waiting.length ? (
            // The form's date D is stored as "before D+1 00:00 UTC" (web/pages/booking.tsx): shown as D again.
            <ul class="cards">
              {waiting.map((w) => (
                <li>
                  {w.specialty} · {t.wantedBefore} {formatDate(lang, new Date(w.wanted_before.getTime() - 86_400_000), 'UTC')} · {t.waiting}
                </li>
              ))}
            </ul>
          ) : (
            <p class="muted">—</p>
          )}
          <div class="actions">
            <a class="button" href="/patient/book">
              {t.findSlot}
            </a>
          </div>
        </Layout>,
      );
    }),
  );

  async function renderOne(
    c: WebContext,
    row: Appointment,
    extra: { error?: string; notice?: string } = {},
    status: 200 | 409 | 422 = 200,
  ) {
    const t = c.get('t');
    const lang = c.get('lang');
    const names = await namesFor(db, { clinicIds: [row.clinic_id], practitionerIds: [row.practitioner_id] });
    const clinic = names.clinics.get(row.clinic_id)!;
    const doctor = names.practitioners.get(row.practitioner_id)!;
    const holding =
      (row.status === 'held' || row.status === 'offered') && row.hold_expires_at && row.hold_expires_at.getTime() > Date.now();
    const changeable = ['held', 'offered', 'booked'].includes(row.status) && row.starts_at.getTime() > Date.now();
    const title = row.status === 'offered' ? t.offerTitle : row.status === 'held' ? t.held : t.details;
    return c.html(
      <Layout c={c} title={title} error={extra.error} notice={extra.notice}>
        <div data-live={`/patient/appointments/${row.id}/events`} data-version={row.status}>
          <dl class="grid">
            <dt>{t.when}</dt>
            <dd>
              <time datetime={row.starts_at.toISOString()} data-local={localDateTime(row.starts_at, clinic.timeZone)}>
                {formatDateTime(lang, row.starts_at, clinic.timeZone)}
              </time>{' '}
              <span class="muted">· {t.clinicTime(clinic.timeZone)}</span>
            </dd>
            <dt>{t.doctor}</dt>
            <dd>
              {doctor.name} · {doctor.specialty}
            </dd>
            <dt>{t.clinic}</dt>
            <dd>{clinic.name}</dd>
            <dt>{t.status}</dt>
            <dd class="status" data-status={row.status}>
              {t.appointmentStatus[row.status] ?? row.status}
            </dd>
          </dl>
          {holding && (
            <p>
              {t.holdEnds}{' '}
              <span class="timer" role="timer" data-expires={row.hold_expires_at!.toISOString()}>
                {`${Math.floor((row.hold_expires_at!.getTime() - Date.now()) / 60_000)}:${String(Math.floor(((row.hold_expires_at!.getTime() - Date.now()) / 1000) % 60)).padStart(2, '0')}`}
              </span>
            </p>
          )}
          {changeable && (
            <div class="actions">
              {holding && (
                <form method="post" action={`/patient/appointments/${row.id}/confirm`}>
                  <CsrfField c={c} />
                  <button type="submit">{row.status === 'offered' ? t.accept : t.confirm}</button>
                </form>
              )}
              {row.status === 'booked' && (
                <a class="button secondary" href={`/patient/appointments/${row.id}/reschedule`}>
                  {t.reschedule}
                </a>
              )}
              <form method="post" action={`/patient/appointments/${row.id}/cancel`}>
                <CsrfField c={c} />
                <input type="hidden" name="reason" value={t.cancelReasonDefault} />
                <button type="submit" class="danger">
                  {t.cancel}
                </button>
              </form>
            </div>
          )}
        </div>
        <p>
          <a href="/patient/appointments">{t.myAppointments}</a>
        </p>
      </Layout>,
      status,
    );
  }

  const done = (c: WebContext): string | undefined => {
    const t = c.get('t');
    return ({ confirmed: t.confirmed, cancelled: t.cancelled, moved: t.moved } as Record<string, string>)[c.req.query('done') ?? ''];
  };

  web.get(
    '/patient/appointments/:id',
    need('patient'),
    page(async (c) => {
      const id = c.req.param('id') ?? '';
      if (!UUID.test(id)) throw new ApiError(404, 'appointment_not_found', 'No such appointment.');
      return renderOne(c, await ctx.ownAppointment(asApi(c), id, 'read'), { notice: done(c) });
    }),
  );

  /** Runs an action; a refusal re-renders the appointment with the reason (a lapsed hold says so). */
  const action = (run: (c: WebContext, id: string, form: Record<string, string>) => Promise<string>) =>
    page(async (c) => {
      const id = c.req.param('id') ?? '';
      if (!UUID.test(id)) throw new ApiError(404, 'appointment_not_found', 'No such appointment.');
      const form = await formOf(c);
      try {
        const doneAs = await run(c, id, form);
        return c.redirect(`/patient/appointments/${id}?done=${doneAs}`, 303);
      } catch (err) {
        if (!(err instanceof ApiError) || err.status >= 500 || err.status === 403 || err.status === 404) throw err;
        const row = await ctx.ownAppointment(asApi(c), id, 'read');
        const lapsed =
          row.status === 'expired' ||
          ((row.status === 'held' || row.status === 'offered') && (row.hold_expires_at?.getTime() ?? 0) <= Date.now());
        return renderOne(c, row, { error: errorText(c.get('t'), lapsed ? 'hold_expired' : err.code) }, err.status === 422 ? 422 : 409);
      }
    });

  web.post(
    '/patient/appointments/:id/confirm',
    need('patient'),
    checkCsrf,
    action(async (c, id) => {
      await commands.confirm(asApi(c), id);
      return 'confirmed';
    }),
  );

  web.post(
    '/patient/appointments/:id/cancel',
    need('patient'),
    checkCsrf,
    action(async (c, id, form) => {
      await commands.cancel(asApi(c), id, (form.reason || c.get('t').cancelReasonDefault).slice(0, 500));
      return 'cancelled';
    }),
  );

  web.post(
    '/patient/appointments/:id/reschedule',
    need('patient'),
    checkCsrf,
    action(async (c, id, form) => {
      if (!UUID.test(form.slotId ?? '')) throw new ApiError(400, 'validation_failed', 'Choose a time.');
      await commands.reschedule(asApi(c), id, form.slotId!, /^[A-Za-z0-9_.:-]{8,128}$/.test(form.key ?? '') ? form.key! : randomUUID());
      return 'moved';
    }),
  );

  web.get(
    '/patient/appointments/:id/reschedule',
    need('patient'),
    page(async (c) => {
      const t = c.get('t');
      const id = c.req.param('id') ?? '';
      if (!UUID.test(id)) throw new ApiError(404, 'appointment_not_found', 'No such appointment.');
      const row = await ctx.ownAppointment(asApi(c), id, 'read');
      const where = (await slotContext(db, row.slot_id))!;
      const asked = LocalDate.safeParse(c.req.query('date'));
      const date = asked.success ? asked.data : where.local_date;
      const slots = await searchFreeSlots(db, { from: date, to: date, specialty: where.specialty, clinicId: where.clinic_id, limit: 40 });
      const view = appointmentView(row);
      return c.html(
        <Layout c={c} title={t.rescheduleTitle}>
          <form method="get" action={`/patient/appointments/${view.appointmentId}/reschedule`} class="grid search">
            <div>
              <label for="date">{t.date}</label>
              <input id="date" name="date" type="date" value={date} required />
            </div>
            <div>
              <button type="submit">{t.search}</button>
            </div>
          </form>
          <h2>{t.freeSlots}</h2>
          <SlotList c={c} slots={slots} action={`/patient/appointments/${view.appointmentId}/reschedule`} label={t.rescheduleTo} />
          <p>
            <a href={`/patient/appointments/${view.appointmentId}`}>{t.back}</a>
          </p>
        </Layout>,
      );
    }),
  );
}
