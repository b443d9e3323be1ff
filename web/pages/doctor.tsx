/**
 * The doctor's tablet: today's visits, and one visit's page where the complaints box shows diagnosis
 * suggestions as the doctor types (htmx, debounced) and the visit is completed with an ICD-10 code.
 * Suggestions and completion run the API's own commands (api/diagnosis.ts, api/booking/commands.ts).
 */
import type { Hono } from 'hono';
import type { BookingCommands } from '../../api/booking/commands';
import type { BookingContext } from '../../api/booking/shared';
import { complaintsSuggester, type StoredSuggestion } from '../../api/diagnosis';
import { ApiError } from '../../api/errors';
import type { ApiDeps } from '../../api/router';
import { namesFor, patientNames, practitionerClinic, visitDiagnosis } from '../../db/web-views';
import type { Appointment } from '../../db/schema';
import { localToday } from '../../domain/time';
import { asApi, type WebContext, type WebEnv } from '../env';
import { errorText, formatDate, formatDateTime, formatTime } from '../i18n';
import { CsrfField, Layout } from '../layout';
import { checkCsrf, errorPage, formOf, need, page } from './common';
import { DeliveryList, deliveriesOrNull } from './delivery-status';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const OPEN = ['booked', 'arrived'];
/** Refusals of a text that belong at the complaints field (the API's codes). */
const FIELD_CODES = ['text_too_short', 'text_not_russian', 'text_too_long'];

interface VisitView {
  text?: string;
  code?: string;
  codeError?: string;
  error?: string;
  suggestions?: SuggestionsState;
}
type SuggestionsState = { kind: 'idle' } | { kind: 'answer'; stored: StoredSuggestion } | { kind: 'error'; code: string; atField: boolean };

/** The complaints field's error, under the box (htmx swaps it out of band beside the suggestions region). */
function ComplaintsError(props: { c: WebContext; state: SuggestionsState; oob?: boolean }) {
  const s = props.state;
  const text = s.kind === 'error' && s.atField ? errorText(props.c.get('t'), s.code) : '';
  return (
    <p id="complaints-error" class="field-error" hx-swap-oob={props.oob ? 'true' : undefined}>
      {text}
    </p>
  );
}

/** What the suggestions region shows. */
function Suggestions(props: { c: WebContext; state: SuggestionsState }) {
  const t = props.c.get('t');
  const s = props.state;
  return (
    <>
      {s.kind === 'idle' && <p class="muted">{t.noSuggestionsYet}</p>}
      {s.kind === 'error' && !s.atField && <p class="alert error">{errorText(t, s.code)}</p>}
      {s.kind === 'answer' && s.stored.result.lowConfidence && (
        <p class="alert notice" data-low-confidence="true">
          {t.lowConfidence}
        </p>
      )}
      {s.kind === 'answer' && !s.stored.result.lowConfidence && (
        <>
          <p class="suggestion-notice">
            <strong>{t.suggestionNotice}</strong>
          </p>
          <ol class="suggestions" data-suggestion-id={s.stored.id}>
            {s.stored.result.suggestions.map((x) => (
              <li>
                <button type="button" class="suggestion secondary" data-fill-code={x.code}>
                  <span class="code">{x.code}</span> <span class="title">{x.title}</span>
                  <span class="band muted"> · {t.probabilityBand[x.band] ?? x.band}</span>
                </button>
              </li>
            ))}
          </ol>
        </>
      )}
    </>
  );
}

export function doctorPages(web: Hono<WebEnv>, deps: ApiDeps, ctx: BookingContext, commands: BookingCommands) {
  const { db } = deps;
  const suggestFromComplaints = complaintsSuggester(deps);

  web.get(
    '/doctor',
    need('doctor'),
    page(async (c) => {
      const t = c.get('t');
      const lang = c.get('lang');
      const practitionerId = c.get('caller').practitionerId;
      const clinic = practitionerId && UUID.test(practitionerId) ? await practitionerClinic(db, practitionerId) : undefined;
      if (!practitionerId || !clinic) return errorPage(c, 403, 'forbidden');
      const today = localToday(clinic.timeZone);
      const rows = await commands.practitionerDayList(asApi(c), practitionerId, today);
      const names = await patientNames(
        db,
        rows.map((r) => r.patient_id),
      );
      return c.html(
        <Layout c={c} title={t.doctorDayTitle(formatDate(lang, new Date(), clinic.timeZone))}>
          <p class="muted">
            {clinic.clinicName} · {t.clinicTime(clinic.timeZone)}
          </p>
          {rows.length ? (
            <ul class="cards">
              {rows.map((r) => {
                const who = names.get(r.patient_id) ?? '—';
                const time = formatTime(lang, r.starts_at, clinic.timeZone);
                return (
                  <li data-appointment={r.id} data-status={r.status}>
                    <a href={`/doctor/visits/${r.id}`}>
                      <time datetime={r.starts_at.toISOString()}>{time}</time> · {who}
                    </a>
                    <div class="status">{t.appointmentStatus[r.status] ?? r.status}</div>
                    <a href={`/doctor/patients/${r.patient_id}`} class="record-link">
                      {t.doctor2.openRecord}
                    </a>
                  </li>
                );
              })}
            </ul>
          ) : (
            <p>{t.noDoctorVisits}</p>
          )}
        </Layout>,
      );
    }),
  );

  async function renderVisit(c: WebContext, row: Appointment, view: VisitView, status: 200 | 409 | 422 = 200) {
    const t = c.get('t');
    const lang = c.get('lang');
    const [names, patients, diagnosis, deliveries] = await Promise.all([
      namesFor(db, { clinicIds: [row.clinic_id], practitionerIds: [row.practitioner_id] }),
      patientNames(db, [row.patient_id]),
      visitDiagnosis(db, row.id),
      deliveriesOrNull(c, db, 'appointments', row.id),
    ]);
    const clinic = names.clinics.get(row.clinic_id)!;
    const who = patients.get(row.patient_id) ?? '—';
    // Just completed: the process may not have marked it fulfilled yet, but the diagnosis is stored before it is told.
    const completed =
      row.status === 'fulfilled' || (row.status === 'arrived' && diagnosis !== undefined && c.req.query('done') === 'completed');
    const shownStatus = completed ? 'fulfilled' : row.status;
    const action = `/doctor/visits/${row.id}`;
    return c.html(
      <Layout c={c} title={t.visitTitle(who)} error={view.error} notice={completed ? t.visitCompleted : undefined}>
        <dl class="grid">
          <dt>{t.patient}</dt>
          <dd>{who}</dd>
          <dt>{t.when}</dt>
          <dd>
            <time datetime={row.starts_at.toISOString()}>{formatDateTime(lang, row.starts_at, clinic.timeZone)}</time>{' '}
            <span class="muted">· {t.clinicTime(clinic.timeZone)}</span>
          </dd>
          <dt>{t.clinic}</dt>
          <dd>{clinic.name}</dd>
          <dt>{t.status}</dt>
          <dd class="status" data-status={shownStatus}>
            {t.appointmentStatus[shownStatus] ?? shownStatus}
          </dd>
        </dl>
        {diagnosis && (
          <p class="diagnosis" data-code={diagnosis.code}>
            {t.diagnosisRecorded(diagnosis.code, diagnosis.title)}
          </p>
        )}
        {!completed && OPEN.includes(row.status) && (
          <form method="post" action={`${action}/complete`} class="visit">
            <CsrfField c={c} />
            <label for="complaints">{t.complaints}</label>
            <p id="complaints-help" class="muted">
              {t.complaintsHelp}
            </p>
            <textarea
              id="complaints"
              name="text"
              rows={6}
              aria-describedby="complaints-help complaints-error"
              hx-post={`${action}/suggestions`}
              hx-trigger="input changed delay:500ms"
              hx-target="#suggestions"
              hx-swap="innerHTML"
              hx-sync="this:replace"
            >
              {view.text ?? ''}
            </textarea>
            <ComplaintsError c={c} state={view.suggestions ?? { kind: 'idle' }} />
            <button
              type="submit"
              class="secondary"
              formaction={`${action}/suggestions`}
              formnovalidate
              hx-post={`${action}/suggestions`}
              hx-target="#suggestions"
              hx-swap="innerHTML"
            >
              {t.suggestButton}
            </button>
            <h2 id="suggestions-title">{t.suggestionsTitle}</h2>
            <div id="suggestions" aria-live="polite" aria-labelledby="suggestions-title">
              <Suggestions c={c} state={view.suggestions ?? { kind: 'idle' }} />
            </div>
            <label for="diagnosisCode">{t.diagnosisCode}</label>
            <p id="code-help" class="muted">
              {t.diagnosisCodeHelp}
            </p>
            <input
              id="diagnosisCode"
              name="diagnosisCode"
              value={view.code ?? ''}
              required
              autocomplete="off"
              spellcheck={false}
              class="code-input"
              aria-describedby="code-help code-error"
              aria-invalid={view.codeError ? 'true' : undefined}
            />
            <p id="code-error" class="field-error">
              {view.codeError ?? ''}
            </p>
            <div class="actions">
              <button type="submit">{t.completeVisit}</button>
            </div>
          </form>
        )}
        <DeliveryList c={c} rows={deliveries} timeZone={clinic.timeZone} />
        <p>
          <a href="/doctor">{t.allVisitsToday}</a>
        </p>
      </Layout>,
      status,
    );
  }

  const visitId = (c: WebContext) => {
    const id = c.req.param('id') ?? '';
    if (!UUID.test(id)) throw new ApiError(404, 'appointment_not_found', 'No such appointment.');
    return id;
  };

  web.get(
    '/doctor/visits/:id',
    need('doctor', 'admin'),
    page(async (c) => {
      return renderVisit(c, await ctx.ownAppointment(asApi(c), visitId(c), 'write'), {});
    }),
  );

  // htmx asks for the region only; a plain form post (no JavaScript) gets the whole page with the text kept.
  web.post(
    '/doctor/visits/:id/suggestions',
    need('doctor', 'admin'),
    checkCsrf,
    page(async (c) => {
      const id = visitId(c);
      const text = (await formOf(c)).text ?? '';
      let state: SuggestionsState = { kind: 'idle' };
      let status: 200 | 422 = 200;
      if (text.trim()) {
        try {
          state = { kind: 'answer', stored: await suggestFromComplaints(asApi(c), { text, appointmentId: id }) };
        } catch (err) {
          if (!(err instanceof ApiError) || err.status === 403 || (err.status === 404 && err.code !== 'feature_off')) throw err;
          state = { kind: 'error', code: err.code, atField: FIELD_CODES.includes(err.code) };
          status = 422;
        }
      }
      if (c.req.header('hx-request') === 'true' && c.req.header('hx-boosted') !== 'true') {
        return c.html(
          <>
            <Suggestions c={c} state={state} />
            <ComplaintsError c={c} state={state} oob />
          </>,
          status,
        );
      }
      return renderVisit(c, await ctx.ownAppointment(asApi(c), id, 'write'), { text, suggestions: state }, status);
    }),
  );

  web.post(
    '/doctor/visits/:id/complete',
    need('doctor', 'admin'),
    checkCsrf,
    page(async (c) => {
      const id = visitId(c);
      const form = await formOf(c);
      const code = (form.diagnosisCode ?? '').trim();
      try {
        await commands.completeVisit(asApi(c), id, code === '' ? undefined : code);
        return c.redirect(`/doctor/visits/${id}?done=completed`, 303);
      } catch (err) {
        if (!(err instanceof ApiError) || (err.code !== 'invalid_icd10' && err.code !== 'invalid_state')) throw err;
        const row = await ctx.ownAppointment(asApi(c), id, 'write');
        const t = c.get('t');
        return err.code === 'invalid_icd10'
          ? renderVisit(c, row, { text: form.text, code, codeError: errorText(t, 'invalid_icd10') }, 422)
          : renderVisit(c, row, { text: form.text, code, error: t.completeNotArrived }, 409);
      }
    }),
  );
}
