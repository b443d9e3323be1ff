/**
 * The lab bench, continued: critical values still waiting for the doctor's read-back, uploading an
 * HL7 ORU^R01 (the same intake as POST /lab-results/hl7v2 and MLLP, answered with its real ACK), and
 * the unmatched-messages queue (the same query as GET /lab-messages/unmatched).
 */
import type { Hono } from 'hono';
import { callerClinics } from '../../api/access';
import { rejectUnmatched, REJECT_REASONS } from '../../api/lab-messages';
import { intakeLabMessage, type IntakeAnswer } from '../../api/lab-messages/intake';
import { ApiError } from '../../api/errors';
import { labNames } from '../../api/lab-order/names';
import type { ApiDeps } from '../../api/router';
import { unmatchedMessages } from '../../db/lab-messages';
import { criticalUnacknowledged, currentResults } from '../../db/lab-order';
import { readOru, type IntakeProblem } from '../../domain/hl7-intake';
import { isCritical } from '../../domain/interpretation';
import { asApi, type WebContext, type WebEnv } from '../env';
import { formatDateTime } from '../i18n';
import { CsrfField, Layout } from '../layout';
import { checkCsrf, formOf, need, page } from './common';
import { idParam, LabMenu } from './lab-common';

/** An upload is at most this large (the intake judges the size again). */
const MAX_UPLOAD = 1_000_000;

export function labMessagePages(web: Hono<WebEnv>, deps: ApiDeps) {
  const { db, temporal } = deps;
  const lab = need('lab');

  web.get(
    '/lab/critical',
    lab,
    page(async (c) => {
      const t = c.get('t');
      const lang = c.get('lang');
      const rows = await criticalUnacknowledged(db, { clinicIds: callerClinics(c.get('caller')), limit: 200 });
      const [names, results] = await Promise.all([
        labNames(db, rows, { namePatients: true, practitioners: rows.flatMap((r) => r.steps.map((s) => s.recipient_practitioner_id)) }),
        currentResults(
          db,
          rows.map((r) => r.id),
        ),
      ]);
      return c.html(
        <Layout c={c} title={t.lab.criticalTitle}>
          <LabMenu c={c} />
          {rows.length === 0 ? (
            <p>{t.lab.noCritical}</p>
          ) : (
            <ul class="cards">
              {rows.map((r) => {
                const n = names.fields(r);
                const minutes = r.final_at ? Math.max(0, Math.round((Date.now() - r.final_at.getTime()) / 60_000)) : 0;
                return (
                  <li data-critical-order={r.id}>
                    <div>
                      <a href={`/lab/orders/${r.id}`}>
                        <strong>{n.patientName ?? '—'}</strong>
                      </a>{' '}
                      · {n.orderingPractitionerName ?? '—'}
                    </div>
                    <ul class="plain">
                      {results
                        .filter((x) => x.lab_order_id === r.id && isCritical(x.interpretation))
                        .map((x) => (
                          <li data-loinc={x.loinc}>
                            {x.name}:{' '}
                            <strong class={`flag-${x.interpretation}`}>
                              {x.value} {x.unit}
                            </strong>{' '}
                            ({t.flags[x.interpretation] ?? x.interpretation})
                          </li>
                        ))}
                    </ul>
                    <div class="muted">
                      {t.lab.finalAt}: {r.final_at ? formatDateTime(lang, r.final_at, n.timeZone) : '—'} · {t.lab.waitingMinutes(minutes)}
                    </div>
                    {r.steps.length > 0 && (
                      <div class="muted">
                        {t.lab.escalations}:{' '}
                        {r.steps
                          .map((s) => `${t.lab.steps[s.step] ?? s.step} (${names.practitioner(s.recipient_practitioner_id) ?? '—'})`)
                          .join(', ')}
                      </div>
                    )}
                  </li>
                );
              })}
            </ul>
          )}
        </Layout>,
      );
    }),
  );

  function renderUpload(c: WebContext, view: { text?: string; answer?: IntakeAnswer; error?: string }, status: 200 | 400 | 422 = 200) {
    const t = c.get('t');
    const a = view.answer;
    return c.html(
      <Layout c={c} title={t.lab.uploadTitle}>
        <LabMenu c={c} />
        {a && (
          <section aria-labelledby="ack-title" class={`ack ack-${a.ackCode}`} data-ack-code={a.ackCode} data-message={a.messageId}>
            <h2 id="ack-title">
              {t.lab.ackTitle}: {a.ackCode}
            </h2>
            <p class={`alert ${a.ackCode === 'AA' ? 'notice' : 'error'}`} role={a.ackCode === 'AA' ? 'status' : 'alert'}>
              {t.lab.ackCodes[a.ackCode]}
            </p>
            <pre class="hl7" tabindex={0}>
              {a.ack.replace(/\r/g, '\n')}
            </pre>
            {a.status === 'unmatched' && (
              <p>
                <a href="/lab/unmatched">{t.lab.menu.unmatched}</a>
              </p>
            )}
          </section>
        )}
        <form method="post" action="/lab/messages" enctype="multipart/form-data" hx-boost="false">
          <CsrfField c={c} />
          <p id="upload-help" class="muted">
            {t.lab.uploadHelp}
          </p>
          <label for="message">{t.lab.message}</label>
          <textarea
            id="message"
            name="message"
            rows={10}
            spellcheck={false}
            class="hl7"
            aria-describedby="upload-help message-error"
            aria-invalid={view.error ? 'true' : undefined}
          >
            {view.text ?? ''}
          </textarea>
          <p id="message-error" class="field-error">
            {view.error ?? ''}
          </p>
          <label for="file">{t.lab.file}</label>
          <input id="file" name="file" type="file" accept=".hl7,.txt,text/plain" />
          <div class="actions">
            <button type="submit">{t.lab.send}</button>
          </div>
        </form>
      </Layout>,
      status,
    );
  }

  web.get(
    '/lab/messages',
    lab,
    page(async (c) => renderUpload(c, {})),
  );

  web.post(
    '/lab/messages',
    lab,
    checkCsrf,
    page(async (c) => {
      const body = await c.req.parseBody();
      const file = body.file instanceof File && body.file.size > 0 ? body.file : undefined;
      const typed = typeof body.message === 'string' ? body.message : '';
      if (file && file.size > MAX_UPLOAD) return renderUpload(c, { text: typed, error: c.get('t').errors.validation_failed }, 400);
      const raw = file ? Buffer.from(await file.arrayBuffer()) : Buffer.from(typed.replace(/\r?\n/g, '\r').trim(), 'utf8');
      if (raw.length === 0) return renderUpload(c, { error: c.get('t').lab.emptyMessage }, 400);
      const caller = c.get('caller');
      const clinics = callerClinics(caller);
      // The lab's session says whose orders it posts to, as its token does on the JSON route.
      const answer = await intakeLabMessage(
        { db, temporal },
        {
          raw,
          transport: 'http',
          caller: caller.id,
          peer: null,
          scopeFor: () => (clinics.length ? { clinicIds: clinics } : null),
        },
      );
      return renderUpload(c, { text: typed, answer }, answer.ackCode === 'AA' ? 200 : answer.ackCode === 'AR' ? 400 : 422);
    }),
  );

  web.get(
    '/lab/unmatched',
    lab,
    page(async (c) => {
      const t = c.get('t');
      const lang = c.get('lang');
      const clinics = callerClinics(c.get('caller'));
      const rows = (await Promise.all(clinics.map((clinic) => unmatchedMessages(db, clinic)))).flat();
      const zones = await labNames(
        db,
        clinics.map((id) => ({ patient_id: '', clinic_id: id, ordering_practitioner_id: '', tests: [] })),
        { namePatients: false },
      );
      const zoneOf = (clinicId: string | null) =>
        zones.fields({ patient_id: '', clinic_id: clinicId ?? '', ordering_practitioner_id: '', tests: [] }).timeZone;
      return c.html(
        <Layout c={c} title={t.lab.unmatchedTitle} notice={c.req.query('done') ? t.lab.resolved.rejected : undefined}>
          <LabMenu c={c} />
          {rows.length === 0 ? (
            <p>{t.lab.noUnmatched}</p>
          ) : (
            <ul class="cards">
              {rows.map((r) => {
                const read = readOru(r.raw.toString('utf8'), r.raw.length);
                const problems = (r.problems as IntakeProblem[] | null) ?? [];
                return (
                  <li data-unmatched={r.id} data-control-id={r.control_id}>
                    <div>
                      <strong>
                        {t.lab.controlId}: {r.control_id}
                      </strong>{' '}
                      · {r.sending_application}/{r.sending_facility}
                    </div>
                    <div class="muted">
                      {t.lab.received}: {formatDateTime(lang, r.received_at, zoneOf(r.clinic_id))}
                    </div>
                    <div>
                      {t.lab.reason}: {problems.map((p) => t.lab.unmatchedReasons[p.code] ?? p.code).join(', ') || '—'}
                    </div>
                    {read.ok && (
                      <div>
                        {t.lab.pid}: {read.message.familyName} {read.message.givenName} ({read.message.patientIds.join(', ')}) ·{' '}
                        {t.lab.results(read.message.obx.length)}
                      </div>
                    )}
                    {r.placer_order_id && (
                      <div>
                        {t.lab.placerOrder}: <code>{r.placer_order_id}</code>
                      </div>
                    )}
                    <form method="post" action={`/lab/unmatched/${r.id}/reject`} class="resolve">
                      <CsrfField c={c} />
                      <label for={`why-${r.id}`}>{t.lab.reason}</label>
                      <select id={`why-${r.id}`} name="reason">
                        {REJECT_REASONS.map((x) => (
                          <option value={x}>{t.lab.rejectMessageReasons[x] ?? x}</option>
                        ))}
                      </select>
                      <div class="actions">
                        <button type="submit" class="secondary">
                          {t.lab.rejectMessage}
                        </button>
                      </div>
                    </form>
                  </li>
                );
              })}
            </ul>
          )}
        </Layout>,
      );
    }),
  );

  // The same command as POST /lab-messages/{id}/reject: only the lab's own clinic's queue, audited.
  web.post(
    '/lab/unmatched/:id/reject',
    lab,
    checkCsrf,
    page(async (c) => {
      const id = idParam(c, 'id', 'not_found');
      const reason = (await formOf(c)).reason ?? '';
      if (!(REJECT_REASONS as readonly string[]).includes(reason)) throw new ApiError(400, 'validation_failed', 'Choose a reason.');
      await rejectUnmatched(deps, asApi(c), id, reason as (typeof REJECT_REASONS)[number]);
      return c.redirect('/lab/unmatched?done=rejected', 303);
    }),
  );
}
