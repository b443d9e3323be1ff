/**
 * The desk's other screens: the referral queue (escalated first, then by deadline; book a free time from it),
 * practitioners' day lists, and practitioner leave. Each runs the API's command: the queue and booking of
 * api/referral-desk.ts, practitionerDayList and practitionerLeave of api/booking/commands.ts.
 */
import type { Hono } from 'hono';
import type { BookingCommands } from '../../api/booking/commands';
import { LocalDate, type BookingContext } from '../../api/booking/shared';
import { ApiError } from '../../api/errors';
import { referralDesk } from '../../api/referral-desk';
import type { ApiDeps } from '../../api/router';
import { clinicPractitioners } from '../../db/desk-ops';
import { patientNames } from '../../db/web-views';
import { addDays, localToday } from '../../domain/time';
import { asApi, type WebContext, type WebEnv } from '../env';
import { errorText, formatDate, formatDateTime, formatTime } from '../i18n';
import { CsrfField, Layout } from '../layout';
import { checkCsrf, formOf, need, page } from './common';
import { DeskNav, deskClinic, UUID } from './desk-shared';

const desk = need('registrar', 'admin');

export function deskMorePages(web: Hono<WebEnv>, deps: ApiDeps, ctx: BookingContext, commands: BookingCommands) {
  const { db } = deps;
  const referrals = referralDesk(deps);

  async function renderQueue(c: WebContext, extra: { error?: string; notice?: string; status?: 200 | 409 | 422 } = {}) {
    const t = c.get('t');
    const d = t.desk;
    const lang = c.get('lang');
    const clinic = await deskClinic(c, db);
    const { referrals: rows } = await referrals.queue(asApi(c), { clinicId: clinic.id, limit: 50, offset: 0 });
    return c.html(
      <Layout c={c} title={d.queueTitle} error={extra.error} notice={extra.notice}>
        <DeskNav c={c} at="referrals" />
        <p class="muted">
          {d.queueIntro}
          <br />
          {d.clinicTime(clinic.timeZone)}
        </p>
        {rows.length ? (
          <ol class="cards queue">
            {rows.map((r) => (
              <li data-referral={r.id} data-deadline={r.deadlineAt} data-escalation={r.escalationLevel}>
                <div>
                  <strong>{r.patientName ?? '—'}</strong> · {r.specialty} · {d.urgency[r.urgency] ?? r.urgency}
                  {r.escalationLevel > 0 && <span class={`mark escalation-${r.escalationLevel}`}> {d.escalation[r.escalationLevel]}</span>}
                  {r.breached && <span class="mark breached"> {d.breached}</span>}
                </div>
                <div>
                  {d.deadline}: <time datetime={r.deadlineAt}>{formatDateTime(lang, r.deadlineAt, r.timeZone ?? clinic.timeZone)}</time>
                </div>
                <details>
                  <summary>
                    {d.offers} ({r.offeredSlots.length})
                  </summary>
                  {r.offeredSlots.length ? (
                    <ul class="offers">
                      {r.offeredSlots.slice(0, 8).map((o) => {
                        const when = `${formatDate(lang, o.startsAt, o.timeZone)} ${formatTime(lang, o.startsAt, o.timeZone)}`;
                        return (
                          <li>
                            <form method="post" action={`/desk/referrals/${r.id}/book`} class="inline">
                              <CsrfField c={c} />
                              <input type="hidden" name="slotId" value={o.slotId} />
                              <button
                                type="submit"
                                class="secondary"
                                aria-label={d.bookSlot(when, `${o.practitionerName}, ${o.clinicName}`)}
                              >
                                {when}
                              </button>
                              <span class="muted">
                                {' '}
                                {o.practitionerName}, {o.clinicName} · {o.withinDeadline ? d.withinDeadline : d.afterDeadline}
                              </span>
                            </form>
                          </li>
                        );
                      })}
                    </ul>
                  ) : (
                    <p>{d.noOffers}</p>
                  )}
                </details>
              </li>
            ))}
          </ol>
        ) : (
          <p>{d.noReferrals}</p>
        )}
      </Layout>,
      extra.status ?? 200,
    );
  }

  web.get(
    '/desk/referrals',
    desk,
    page((c) => renderQueue(c, { notice: c.req.query('done') === 'booked' ? c.get('t').desk.referralBooked : undefined })),
  );

  web.post(
    '/desk/referrals/:id/book',
    desk,
    checkCsrf,
    page(async (c) => {
      const id = c.req.param('id') ?? '';
      const slotId = (await formOf(c)).slotId ?? '';
      if (!UUID.test(id)) throw new ApiError(404, 'referral_not_found', 'No such referral.');
      if (!UUID.test(slotId)) throw new ApiError(400, 'validation_failed', 'Choose a time.');
      try {
        await referrals.book(asApi(c), id, slotId);
        return c.redirect('/desk/referrals?done=booked', 303);
      } catch (err) {
        if (!(err instanceof ApiError) || err.status === 403 || err.status === 404 || err.status >= 500) throw err;
        return renderQueue(c, { error: errorText(c.get('t'), err.code), status: err.status === 422 ? 422 : 409 });
      }
    }),
  );

  web.get(
    '/desk/day',
    desk,
    page(async (c) => {
      const t = c.get('t');
      const d = t.desk;
      const lang = c.get('lang');
      const clinic = await deskClinic(c, db);
      const practitioners = await clinicPractitioners(db, clinic.id);
      const asked = c.req.query('practitioner');
      const chosen = practitioners.find((p) => p.id === asked) ?? practitioners[0];
      const parsed = LocalDate.safeParse(c.req.query('date'));
      const date = parsed.success ? parsed.data : localToday(clinic.timeZone);
      const rows = chosen ? await commands.practitionerDayList(asApi(c), chosen.id, date) : [];
      const names = await patientNames(
        db,
        rows.map((r) => r.patient_id),
      );
      return c.html(
        <Layout c={c} title={d.dayTitle}>
          <DeskNav c={c} at="day" />
          <form method="get" action="/desk/day" class="grid search">
            <div>
              <label for="practitioner">{d.practitioner}</label>
              <select id="practitioner" name="practitioner">
                {practitioners.map((p) => (
                  <option value={p.id} selected={p.id === chosen?.id}>
                    {p.full_name} · {p.specialty}
                  </option>
                ))}
              </select>
            </div>
            <div>
              <label for="date">{d.date}</label>
              <input id="date" name="date" type="date" value={date} required />
            </div>
            <div>
              <button type="submit">{d.show}</button>
            </div>
          </form>
          <p class="muted">{d.clinicTime(clinic.timeZone)}</p>
          {rows.length ? (
            <table class="day">
              <thead>
                <tr>
                  <th scope="col">{d.time}</th>
                  <th scope="col">{d.patient}</th>
                  <th scope="col">{d.status}</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr data-appointment={r.id} data-status={r.status}>
                    <td>
                      <time datetime={r.starts_at.toISOString()}>{formatTime(lang, r.starts_at, clinic.timeZone)}</time>
                    </td>
                    <td>{names.get(r.patient_id) ?? '—'}</td>
                    <td>{t.appointmentStatus[r.status] ?? r.status}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p>{d.noDay}</p>
          )}
        </Layout>,
      );
    }),
  );

  async function renderLeave(
    c: WebContext,
    result?: Awaited<ReturnType<BookingCommands['practitionerLeave']>>,
    error?: string,
    status: 200 | 400 = 200,
  ) {
    const t = c.get('t');
    const d = t.desk;
    const lang = c.get('lang');
    const clinic = await deskClinic(c, db);
    const practitioners = await clinicPractitioners(db, clinic.id);
    const today = localToday(clinic.timeZone);
    const names = result
      ? await patientNames(
          db,
          result.affected.map((a) => a.patient_id),
        )
      : new Map<string, string>();
    return c.html(
      <Layout c={c} title={d.leaveTitle} error={error} notice={result ? d.leaveRecorded(result.slotsClosed) : undefined}>
        <DeskNav c={c} at="leave" />
        <p class="muted">{d.leaveIntro}</p>
        <form method="post" action="/desk/leave">
          <CsrfField c={c} />
          <label for="leave-practitioner">{d.practitioner}</label>
          <select id="leave-practitioner" name="practitionerId">
            {practitioners.map((p) => (
              <option value={p.id}>
                {p.full_name} · {p.specialty}
              </option>
            ))}
          </select>
          <label for="startsOn">{d.startsOn}</label>
          <input id="startsOn" name="startsOn" type="date" value={addDays(today, 1)} required />
          <label for="endsOn">{d.endsOn}</label>
          <input id="endsOn" name="endsOn" type="date" value={addDays(today, 7)} required />
          <label for="reason">{d.reason}</label>
          <input id="reason" name="reason" value={d.reasonDefault} maxlength={200} required />
          <div class="actions">
            <button type="submit">{d.recordLeave}</button>
          </div>
        </form>
        {result && (
          <section aria-labelledby="to-move">
            <h2 id="to-move">{d.toMove}</h2>
            {result.affected.length ? (
              <ul class="cards">
                {result.affected.map((a) => (
                  <li data-appointment={a.id}>
                    <time datetime={a.starts_at.toISOString()}>{formatDateTime(lang, a.starts_at, clinic.timeZone)}</time> ·{' '}
                    {names.get(a.patient_id) ?? '—'}
                  </li>
                ))}
              </ul>
            ) : (
              <p>{d.nothingToMove}</p>
            )}
          </section>
        )}
      </Layout>,
      status,
    );
  }

  web.get(
    '/desk/leave',
    desk,
    page((c) => renderLeave(c)),
  );

  web.post(
    '/desk/leave',
    desk,
    checkCsrf,
    page(async (c) => {
      const form = await formOf(c);
      const startsOn = LocalDate.safeParse(form.startsOn);
      const endsOn = LocalDate.safeParse(form.endsOn);
      const reason = (form.reason ?? '').trim().slice(0, 200);
      if (!UUID.test(form.practitionerId ?? '') || !startsOn.success || !endsOn.success || !reason) {
        return renderLeave(c, undefined, errorText(c.get('t'), 'validation_failed'), 400);
      }
      try {
        const result = await commands.practitionerLeave(asApi(c), form.practitionerId!, {
          startsOn: startsOn.data,
          endsOn: endsOn.data,
          reason,
        });
        return renderLeave(c, result);
      } catch (err) {
        if (!(err instanceof ApiError) || err.status !== 400) throw err;
        return renderLeave(c, undefined, errorText(c.get('t'), err.code), 400);
      }
    }),
  );
}
