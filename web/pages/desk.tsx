/**
 * The registrar's desk: find a patient by name and book for them in one step; today's arrivals on the clinic's
 * clock, with check-in answered in place. Runs the API's own search (findPatients), booking and check-in commands.
 */
import { randomUUID } from 'node:crypto';
import type { Hono } from 'hono';
import type { BookingCommands } from '../../api/booking/commands';
import { LocalDate, type BookingContext } from '../../api/booking/shared';
import { canReadPatientRecord } from '../../api/access';
import { clinicDayList } from '../../api/desk-ops';
import { ApiError } from '../../api/errors';
import { findPatients } from '../../api/patient-search';
import type { ApiDeps } from '../../api/router';
import { searchFreeSlots } from '../../db/booking';
import { bookableSpecialties, namesFor, patientNames } from '../../db/web-views';
import { localToday } from '../../domain/time';
import { asApi, type WebContext, type WebEnv } from '../env';
import { errorText, formatDate } from '../i18n';
import { Layout } from '../layout';
import { checkCsrf, formOf, need, page } from './common';
import { SlotList } from './booking';
import { ArrivalRow, DeskNav, deskClinic, KEY, UUID, type DeskClinic } from './desk-shared';

type Found = Awaited<ReturnType<typeof findPatients>>;
const desk = need('registrar', 'admin');
const isFragment = (c: WebContext) => c.req.header('hx-request') === 'true' && c.req.header('hx-boosted') !== 'true';

function FoundPatients(props: { c: WebContext; found?: Found }) {
  const { c, found } = props;
  const d = c.get('t').desk;
  if (!found) return null;
  if (!found.patients.length) return <p>{d.nobodyFound}</p>;
  return (
    <>
      <ul class="cards" aria-label={d.found}>
        {found.patients.map((p) => (
          <li data-patient={p.id}>
            <strong>{p.fullName}</strong>{' '}
            <span class="muted">
              · {d.born(p.birthDate)}
              {p.policyNumber ? ` · ${d.policy(p.policyNumber)}` : ''}
            </span>
            <div class="actions">
              <a class="button secondary" href={`/desk/patients/${p.id}/book`}>
                {d.bookFor(p.fullName)}
              </a>
            </div>
          </li>
        ))}
      </ul>
      {found.more && <p class="muted">{d.moreFound}</p>}
    </>
  );
}

export function deskPages(web: Hono<WebEnv>, deps: ApiDeps, ctx: BookingContext, commands: BookingCommands) {
  const { db } = deps;

  async function search(c: WebContext, name: string): Promise<{ found?: Found; error?: string }> {
    if (!name.trim()) return {};
    if (name.trim().length < 2) return { error: errorText(c.get('t'), 'validation_failed') };
    return { found: await findPatients(asApi(c), db, { name: name.trim().slice(0, 100), limit: 20 }) };
  }

  async function arrivals(c: WebContext, clinic: DeskClinic) {
    const rows = await clinicDayList(asApi(c), ctx, clinic.id, localToday(clinic.timeZone));
    const [patients, names] = await Promise.all([
      patientNames(
        db,
        rows.map((r) => r.patient_id),
      ),
      namesFor(db, { clinicIds: [], practitionerIds: rows.map((r) => r.practitioner_id) }),
    ]);
    return rows.map((row) => ({
      row,
      patient: patients.get(row.patient_id) ?? '—',
      doctor: names.practitioners.get(row.practitioner_id)?.name ?? '—',
    }));
  }

  web.get(
    '/desk',
    desk,
    page(async (c) => {
      const t = c.get('t');
      const clinic = await deskClinic(c, db);
      const name = c.req.query('name') ?? '';
      const [found, today] = await Promise.all([search(c, name), arrivals(c, clinic)]);
      const notice = ({ booked: t.desk.booked, 'checked-in': t.desk.checkedIn } as Record<string, string>)[c.req.query('done') ?? ''];
      return c.html(
        <Layout c={c} title={t.desk.title(clinic.name)} notice={notice} error={found.error}>
          <DeskNav c={c} at="desk" />
          <section aria-labelledby="find-title">
            <h2 id="find-title">{t.desk.findPatient}</h2>
            <form
              method="get"
              action="/desk"
              role="search"
              hx-get="/desk/patients"
              hx-target="#found"
              hx-push-url="false"
              class="grid search"
            >
              <div>
                <label for="name">{t.desk.nameLabel}</label>
                <input
                  id="name"
                  name="name"
                  value={name}
                  minlength={2}
                  maxlength={100}
                  autocomplete="off"
                  aria-describedby="name-help"
                  required
                />
                <p id="name-help" class="muted">
                  {t.desk.nameHelp}
                </p>
              </div>
              <div>
                <button type="submit">{t.desk.find}</button>
              </div>
            </form>
            <div id="found" aria-live="polite">
              <FoundPatients c={c} found={found.found} />
            </div>
          </section>
          <section aria-labelledby="arrivals-title">
            <h2 id="arrivals-title">{t.desk.arrivals}</h2>
            <p class="muted">
              {formatDate(c.get('lang'), new Date(), clinic.timeZone)} · {t.desk.clinicTime(clinic.timeZone)}
            </p>
            {today.length ? (
              <div class="table-scroll" tabindex={0} role="region" aria-labelledby="arrivals-title">
                <table class="arrivals">
                  <thead>
                    <tr>
                      <th scope="col">{t.desk.time}</th>
                      <th scope="col">{t.desk.patient}</th>
                      <th scope="col">{t.desk.doctor}</th>
                      <th scope="col">{t.desk.status}</th>
                      <th scope="col">{t.desk.action}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {today.map((a) => (
                      <ArrivalRow c={c} row={a.row} zone={clinic.timeZone} patient={a.patient} doctor={a.doctor} />
                    ))}
                  </tbody>
                </table>
              </div>
            ) : (
              <p>{t.desk.noArrivals}</p>
            )}
          </section>
        </Layout>,
      );
    }),
  );

  // htmx asks for the results only; without JavaScript the form goes to /desk?name=… instead.
  web.get(
    '/desk/patients',
    desk,
    page(async (c) => {
      const name = c.req.query('name') ?? '';
      if (!isFragment(c)) return c.redirect(`/desk?${new URLSearchParams({ name }).toString()}`, 303);
      const found = await search(c, name);
      return c.html(
        found.error ? (
          <p class="alert error" role="alert">
            {found.error}
          </p>
        ) : (
          <FoundPatients c={c} found={found.found} />
        ),
        found.error ? 422 : 200,
      );
    }),
  );

  web.post(
    '/desk/appointments/:id/check-in',
    desk,
    checkCsrf,
    page(async (c) => {
      const id = c.req.param('id') ?? '';
      if (!UUID.test(id)) throw new ApiError(404, 'appointment_not_found', 'No such appointment.');
      let refused: string | undefined;
      try {
        await commands.checkIn(asApi(c), id);
      } catch (err) {
        // Refused in place (the visit is no longer booked, or check-in is not open yet); anything else is the error page.
        if (!(err instanceof ApiError) || err.status !== 409 || !isFragment(c)) throw err;
        refused = errorText(c.get('t'), err.code);
      }
      if (!isFragment(c)) return c.redirect('/desk?done=checked-in', 303);
      // The process marks the patient arrived right behind the signal: the row answers with that when it comes in time.
      let row = await ctx.ownAppointment(asApi(c), id, 'read');
      for (let i = 0; i < 20 && row.status === 'booked' && !refused; i++) {
        await new Promise((r) => setTimeout(r, 100));
        row = await ctx.ownAppointment(asApi(c), id, 'read');
      }
      const [patients, names] = await Promise.all([
        patientNames(db, [row.patient_id]),
        namesFor(db, { clinicIds: [row.clinic_id], practitionerIds: [row.practitioner_id] }),
      ]);
      return c.html(
        <ArrivalRow
          c={c}
          row={row}
          zone={names.clinics.get(row.clinic_id)?.timeZone ?? 'UTC'}
          patient={patients.get(row.patient_id) ?? '—'}
          doctor={names.practitioners.get(row.practitioner_id)?.name ?? '—'}
          pending={row.status === 'booked' && !refused}
          error={refused}
        />,
      );
    }),
  );

  async function renderBook(c: WebContext, patientId: string, extra: { error?: string; status?: 200 | 400 | 409 | 422 } = {}) {
    const t = c.get('t');
    const clinic = await deskClinic(c, db);
    await canReadPatientRecord(asApi(c), db, patientId, { type: 'Patient', id: patientId });
    const who = (await patientNames(db, [patientId])).get(patientId) ?? '—';
    const specialties = await bookableSpecialties(db, clinic.id);
    const specialty = c.req.query('specialty') ?? specialties[0];
    const asked = LocalDate.safeParse(c.req.query('date'));
    const date = asked.success ? asked.data : localToday(clinic.timeZone);
    const slots = specialty ? await searchFreeSlots(db, { from: date, to: date, specialty, clinicId: clinic.id, limit: 40 }) : [];
    return c.html(
      <Layout c={c} title={t.desk.bookTitle(who)} error={extra.error}>
        <DeskNav c={c} at="desk" />
        <form method="get" action={`/desk/patients/${patientId}/book`} class="grid search">
          <div>
            <label for="specialty">{t.specialty}</label>
            <select id="specialty" name="specialty">
              {specialties.map((s) => (
                <option value={s} selected={s === specialty}>
                  {s}
                </option>
              ))}
            </select>
          </div>
          <div>
            <label for="date">{t.date}</label>
            <input id="date" name="date" type="date" value={date} required />
          </div>
          <div>
            <button type="submit">{t.search}</button>
          </div>
        </form>
        <h2>{t.freeSlots}</h2>
        <SlotList c={c} slots={slots} action={`/desk/patients/${patientId}/book`} label={t.desk.bookSlot} />
      </Layout>,
      extra.status ?? 200,
    );
  }

  web.get(
    '/desk/patients/:id/book',
    desk,
    page(async (c) => {
      const id = c.req.param('id') ?? '';
      if (!UUID.test(id)) throw new ApiError(404, 'patient_not_found', 'No such patient.');
      return renderBook(c, id);
    }),
  );

  // One step: the slot is held and confirmed at once (the API's `confirm: true`).
  web.post(
    '/desk/patients/:id/book',
    desk,
    checkCsrf,
    page(async (c) => {
      const patientId = c.req.param('id') ?? '';
      if (!UUID.test(patientId)) throw new ApiError(404, 'patient_not_found', 'No such patient.');
      const form = await formOf(c);
      if (!UUID.test(form.slotId ?? '')) throw new ApiError(400, 'validation_failed', 'Choose a time.');
      try {
        await commands.book(asApi(c), {
          slotId: form.slotId ?? '',
          patientId,
          key: KEY.test(form.key ?? '') ? form.key! : randomUUID(),
          confirm: true,
        });
        return c.redirect('/desk?done=booked', 303);
      } catch (err) {
        if (!(err instanceof ApiError) || err.status === 403 || err.status >= 500) throw err;
        return renderBook(c, patientId, {
          error: errorText(c.get('t'), err.code),
          status: err.status === 409 || err.status === 422 ? err.status : 400,
        });
      }
    }),
  );
}
