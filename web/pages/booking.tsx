/** The patient finds a slot (specialty, clinic, local date), holds it, or joins the waitlist. */
import { randomUUID } from 'node:crypto';
import type { Hono } from 'hono';
import { ApiError } from '../../api/errors';
import type { BookingCommands } from '../../api/booking/commands';
import { LocalDate } from '../../api/booking/shared';
import type { ApiDeps } from '../../api/router';
import { searchFreeSlots } from '../../db/booking';
import { bookableClinics, bookableSpecialties, slotContext } from '../../db/web-views';
import { DEMO_TIME_ZONE } from '../../db/seed';
import { addDays, localToday } from '../../domain/time';
import { asApi, type WebContext, type WebEnv } from '../env';
import { errorText, formatDate, formatTime } from '../i18n';
import { CsrfField, Layout } from '../layout';
import { checkCsrf, formOf, need, page } from './common';

const SHOWN = 40;
type FoundSlot = Awaited<ReturnType<typeof searchFreeSlots>>[number];
export interface SlotQuery {
  specialty?: string;
  clinicId?: string;
  date: string;
}

/** The slots list: one form per slot, so a hold works without JavaScript; `action` says where it posts. */
export function SlotList(props: {
  c: WebContext;
  slots: FoundSlot[];
  action: string;
  label: (time: string, who: string) => string;
  more?: boolean;
}) {
  const { c, slots } = props;
  const t = c.get('t');
  const lang = c.get('lang');
  if (!slots.length) return <p>{t.noSlots}</p>;
  return (
    <>
      <ul class="cards slots">
        {slots.map((s) => {
          const time = formatTime(lang, s.starts_at, s.time_zone);
          const who = `${s.practitioner_name}, ${s.clinic_name}`;
          return (
            <li>
              <form method="post" action={props.action}>
                <CsrfField c={c} />
                <input type="hidden" name="slotId" value={s.id} />
                <input type="hidden" name="key" value={randomUUID()} />
                <button type="submit" aria-label={props.label(`${formatDate(lang, s.starts_at, s.time_zone)} ${time}`, who)}>
                  {time}
                </button>
                <span class="muted">
                  {' '}
                  {who} · {t.clinicTime(s.time_zone)}
                </span>
              </form>
            </li>
          );
        })}
      </ul>
      {props.more && <p class="muted">{t.moreSlots}</p>}
    </>
  );
}

const dayLink = (q: SlotQuery, days: number) =>
  `/patient/book?${new URLSearchParams({ specialty: q.specialty ?? '', clinic: q.clinicId ?? '', date: addDays(q.date, days) }).toString()}`;

export function bookingPages(web: Hono<WebEnv>, deps: ApiDeps, commands: BookingCommands) {
  const { db } = deps;

  async function render(
    c: WebContext,
    q: SlotQuery,
    extra: { error?: string; nextFree?: FoundSlot[]; notice?: string } = {},
    status: 200 | 409 | 422 | 400 = 200,
  ) {
    const t = c.get('t');
    const [specialties, clinics, found] = await Promise.all([
      bookableSpecialties(db),
      bookableClinics(db),
      q.specialty
        ? searchFreeSlots(db, { from: q.date, to: q.date, specialty: q.specialty, clinicId: q.clinicId, limit: SHOWN + 1 })
        : undefined,
    ]);
    return c.html(
      <Layout c={c} title={t.findSlot} error={extra.error} notice={extra.notice}>
        {extra.nextFree && extra.nextFree.length > 0 && (
          <section aria-labelledby="next-free">
            <h2 id="next-free">{t.nextFree}</h2>
            <SlotList c={c} slots={extra.nextFree} action="/patient/book/hold" label={t.holdSlot} />
          </section>
        )}
        <form method="get" action="/patient/book" class="grid search" role="search">
          <div>
            <label for="specialty">{t.specialty}</label>
            <select id="specialty" name="specialty" required>
              {specialties.map((s) => (
                <option value={s} selected={s === q.specialty}>
                  {s}
                </option>
              ))}
            </select>
          </div>
          <div>
            <label for="clinic">{t.clinic}</label>
            <select id="clinic" name="clinic">
              <option value="">{t.anyClinic}</option>
              {clinics.map((cl) => (
                <option value={cl.id} selected={cl.id === q.clinicId}>
                  {cl.name}
                </option>
              ))}
            </select>
          </div>
          <div>
            <label for="date">{t.date}</label>
            <input id="date" name="date" type="date" value={q.date} required />
          </div>
          <div>
            <button type="submit">{t.search}</button>
          </div>
        </form>
        {found && (
          <section aria-labelledby="free-slots">
            <h2 id="free-slots">{t.freeSlots}</h2>
            <SlotList c={c} slots={found.slice(0, SHOWN)} more={found.length > SHOWN} action="/patient/book/hold" label={t.holdSlot} />
            <p class="actions">
              <a href={dayLink(q, -1)} rel="prev">
                {t.previousDay}
              </a>
              <a href={dayLink(q, 1)} rel="next">
                {t.nextDay}
              </a>
            </p>
          </section>
        )}
        {q.specialty && (
          <section aria-labelledby="waitlist">
            <h2 id="waitlist">{t.waitlist}</h2>
            <form method="post" action="/patient/waitlist">
              <CsrfField c={c} />
              <input type="hidden" name="specialty" value={q.specialty} />
              <input type="hidden" name="clinic" value={q.clinicId ?? ''} />
              <input type="hidden" name="key" value={randomUUID()} />
              <label for="wanted-before">{t.wantedBefore}</label>
              <input id="wanted-before" name="wantedBefore" type="date" value={addDays(q.date, 7)} required />
              <div class="actions">
                <button type="submit" class="secondary">
                  {t.joinWaitlist}
                </button>
              </div>
            </form>
          </section>
        )}
      </Layout>,
      status,
    );
  }

  /** The search as asked, or today on the clinic's clock; a malformed date falls back to today. */
  function queryOf(c: WebContext): SlotQuery {
    const specialty = c.req.query('specialty') || undefined;
    const clinicId = c.req.query('clinic') || undefined;
    const asked = LocalDate.safeParse(c.req.query('date'));
    return {
      specialty,
      clinicId: clinicId && /^[0-9a-f-]{36}$/i.test(clinicId) ? clinicId : undefined,
      date: asked.success ? asked.data : localToday(DEMO_TIME_ZONE),
    };
  }

  web.get(
    '/patient/book',
    need('patient'),
    page((c) => render(c, queryOf(c))),
  );

  web.post(
    '/patient/book/hold',
    need('patient'),
    checkCsrf,
    page(async (c) => {
      const t = c.get('t');
      const form = await formOf(c);
      const slotId = form.slotId ?? '';
      const key = /^[A-Za-z0-9_.:-]{8,128}$/.test(form.key ?? '') ? form.key! : randomUUID();
      try {
        const held = await commands.book(asApi(c), { slotId, patientId: c.get('caller').patientId!, key });
        return c.redirect(`/patient/appointments/${held.id}`, 303);
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        const where = /^[0-9a-f-]{36}$/i.test(slotId) ? await slotContext(db, slotId) : undefined;
        const q: SlotQuery = where ? { specialty: where.specialty, clinicId: where.clinic_id, date: where.local_date } : queryOf(c);
        // A taken slot says so and offers the next free ones of the same specialty at the same clinic.
        const nextFree =
          err.code === 'slot_taken' && where
            ? await searchFreeSlots(db, {
                from: where.local_date,
                to: addDays(where.local_date, 30),
                specialty: where.specialty,
                clinicId: where.clinic_id,
                limit: 3,
              })
            : undefined;
        return render(c, q, { error: errorText(t, err.code), nextFree }, err.status === 409 || err.status === 422 ? err.status : 400);
      }
    }),
  );

  web.post(
    '/patient/waitlist',
    need('patient'),
    checkCsrf,
    page(async (c) => {
      const t = c.get('t');
      const form = await formOf(c);
      const wanted = LocalDate.safeParse(form.wantedBefore);
      const q: SlotQuery = { specialty: form.specialty, clinicId: form.clinic || undefined, date: localToday(DEMO_TIME_ZONE) };
      if (!form.specialty || !wanted.success) return render(c, q, { error: errorText(t, 'validation_failed') }, 400);
      const key = /^[A-Za-z0-9_.:-]{8,128}$/.test(form.key ?? '') ? form.key! : randomUUID();
      // "Before" a date means before that day ends on the clinic's clock.
      const wantedBefore = new Date(Date.parse(`${addDays(wanted.data, 1)}T00:00:00Z`)).toISOString();
      await commands.joinWaitlist(
        asApi(c),
        { patientId: c.get('caller').patientId!, specialty: form.specialty, clinicId: q.clinicId, wantedBefore },
        key,
      );
      return c.redirect('/patient/appointments?done=waitlist', 303);
    }),
  );
}
