/**
 * The lab bench: the clinic's worklist, one order's page (collect, receive or reject the specimen,
 * enter results with each refusal shown at its field, the acknowledged state). Every step runs the
 * API's own commands (api/lab-order/commands.ts) with the session's caller.
 */
import { randomUUID } from 'node:crypto';
import type { Hono } from 'hono';
import { clinicFilterFor } from '../../api/access';
import { ApiError } from '../../api/errors';
import { labOrderCommands, type ResultInput } from '../../api/lab-order/commands';
import { labNames } from '../../api/lab-order/names';
import { auditedOrder, presentOrder } from '../../api/lab-order/shared';
import type { ApiDeps } from '../../api/router';
import { labWorklist } from '../../db/lab-order';
import { entryTests, type EntryTest } from '../../db/web-lab-doctor';
import { REJECTION_REASONS, type RejectionReason } from '../../domain/lab-order';
import { asApi, type WebContext, type WebEnv } from '../env';
import { formatDateTime } from '../i18n';
import { CsrfField, Layout } from '../layout';
import { checkCsrf, formOf, need, page } from './common';
import { idParam, LabMenu, staffErrorText } from './lab-common';

type Order = Awaited<ReturnType<typeof presentOrder>>;
interface OrderView {
  notice?: string;
  error?: string;
  values?: Record<string, string>;
  fieldError?: { loinc: string; text: string };
  barcodeError?: string;
}

export function labPages(web: Hono<WebEnv>, deps: ApiDeps) {
  const { db } = deps;
  const commands = labOrderCommands(deps);
  const lab = need('lab');

  web.get(
    '/lab',
    lab,
    page(async (c) => {
      const t = c.get('t');
      const lang = c.get('lang');
      const clinicId = clinicFilterFor(c.get('caller'), c.req.query('clinicId') || undefined)!;
      const rows = await labWorklist(db, clinicId, 200);
      const names = await labNames(db, rows, { namePatients: true });
      return c.html(
        <Layout c={c} title={t.lab.worklistTitle}>
          <LabMenu c={c} />
          {rows.length === 0 ? (
            <p>{t.lab.noOrders}</p>
          ) : (
            <div class="table-wrap">
              <table class="worklist">
                <thead>
                  <tr>
                    <th scope="col">{t.lab.patient}</th>
                    <th scope="col">{t.lab.tests}</th>
                    <th scope="col">{t.lab.priority}</th>
                    <th scope="col">{t.lab.status}</th>
                    <th scope="col">{t.lab.deadline}</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((r) => {
                    const n = names.fields(r);
                    return (
                      <tr data-order={r.id} data-status={r.status}>
                        <th scope="row">
                          <a href={`/lab/orders/${r.id}`}>{n.patientName ?? '—'}</a>
                          <div class="muted">
                            {t.lab.ordered}: {formatDateTime(lang, r.created_at, n.timeZone)}
                          </div>
                        </th>
                        <td>{n.testNames.join(', ')}</td>
                        <td class={`priority-${r.priority}`}>{t.lab.priorities[r.priority] ?? r.priority}</td>
                        <td>
                          {t.lab.statuses[r.status] ?? r.status}
                          {r.rejection_count > 0 && <div class="muted">{t.lab.rejections(r.rejection_count)}</div>}
                        </td>
                        <td>
                          {r.deadline_at ? formatDateTime(lang, r.deadline_at, n.timeZone) : '—'}
                          {r.overdue && <strong> · {t.lab.overdue}</strong>}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )}
        </Layout>,
      );
    }),
  );

  async function renderOrder(c: WebContext, order: Order, view: OrderView, status: 200 | 409 | 422 = 200) {
    const t = c.get('t');
    const lang = c.get('lang');
    const [names, tests] = await Promise.all([
      labNames(
        db,
        [
          {
            patient_id: order.patientId,
            clinic_id: order.clinicId,
            ordering_practitioner_id: order.orderingPractitionerId,
            tests: order.tests,
          },
        ],
        { namePatients: true },
      ),
      entryTests(db, order.tests),
    ]);
    const n = names.fields({
      patient_id: order.patientId,
      clinic_id: order.clinicId,
      ordering_practitioner_id: order.orderingPractitionerId,
      tests: order.tests,
    });
    const zone = n.timeZone;
    const action = `/lab/orders/${order.id}`;
    const when = (iso: string | null) => (iso ? formatDateTime(lang, iso, zone) : '—');
    return c.html(
      <Layout c={c} title={t.lab.orderTitle(n.patientName ?? '—')} error={view.error} notice={view.notice}>
        <LabMenu c={c} />
        <dl class="grid facts" data-order={order.id} data-status={order.status}>
          <dt>{t.lab.tests}</dt>
          <dd>{n.testNames.join(', ')}</dd>
          <dt>{t.lab.priority}</dt>
          <dd>{t.lab.priorities[order.priority] ?? order.priority}</dd>
          <dt>{t.lab.orderedBy}</dt>
          <dd>
            {n.orderingPractitionerName ?? '—'} · {n.clinicName}
          </dd>
          <dt>{t.lab.ordered}</dt>
          <dd>
            {when(order.createdAt)} <span class="muted">· {t.lab.clinicTime(zone)}</span>
          </dd>
          <dt>{t.lab.status}</dt>
          <dd class="status" data-status={order.status}>
            {t.lab.statuses[order.status] ?? order.status}
          </dd>
          {order.barcode && (
            <>
              <dt>{t.lab.barcode}</dt>
              <dd>{order.barcode}</dd>
            </>
          )}
          {order.lastRejectionReason && (
            <>
              <dt>{t.lab.lastRejection}</dt>
              <dd>{t.lab.rejectionReasons[order.lastRejectionReason] ?? order.lastRejectionReason}</dd>
            </>
          )}
        </dl>
        {order.status === 'ordered' && order.rejectionCount > 0 && <p class="alert notice">{t.lab.recollect(order.rejectionCount)}</p>}
        {order.status === 'final' && (
          <p class={`alert ${order.criticalPending ? 'error' : 'notice'}`} data-critical-pending={String(order.criticalPending)}>
            {order.criticalPending ? t.lab.criticalWaiting : t.lab.waitingForDoctor}
          </p>
        )}
        {order.acknowledgedAt && (
          <p class="alert notice" data-acknowledged={order.acknowledgedAt}>
            {t.lab.acknowledgedAt(when(order.acknowledgedAt))}
          </p>
        )}

        {order.status === 'ordered' && (
          <form method="post" action={`${action}/collect`}>
            <h2>{t.lab.collectTitle}</h2>
            <CsrfField c={c} />
            <label for="barcode">{t.lab.barcode}</label>
            <p id="barcode-help" class="muted">
              {t.lab.barcodeHelp}
            </p>
            <input
              id="barcode"
              name="barcode"
              required
              autocomplete="off"
              value={view.values?.barcode ?? ''}
              aria-describedby="barcode-help barcode-error"
              aria-invalid={view.barcodeError ? 'true' : undefined}
            />
            <p id="barcode-error" class="field-error">
              {view.barcodeError ?? ''}
            </p>
            <div class="actions">
              <button type="submit">{t.lab.collect}</button>
            </div>
          </form>
        )}
        {order.status === 'collected' && (
          <>
            <form method="post" action={`${action}/receive`} class="actions">
              <CsrfField c={c} />
              <button type="submit">{t.lab.receive}</button>
            </form>
            <form method="post" action={`${action}/reject`}>
              <h2>{t.lab.rejectTitle}</h2>
              <CsrfField c={c} />
              <label for="reason">{t.lab.rejectReason}</label>
              <select id="reason" name="reason">
                {REJECTION_REASONS.map((r) => (
                  <option value={r}>{t.lab.rejectionReasons[r] ?? r}</option>
                ))}
              </select>
              <div class="actions">
                <button type="submit" class="danger">
                  {t.lab.reject}
                </button>
              </div>
            </form>
          </>
        )}
        {(order.status === 'received' || order.status === 'resulted') && <ResultsForm c={c} action={action} tests={tests} view={view} />}
        {order.results.length > 0 && (
          <section aria-labelledby="current-results">
            <h2 id="current-results">{t.lab.currentResults}</h2>
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">{t.lab.tests}</th>
                    <th scope="col">{t.lab.value}</th>
                    <th scope="col">{t.lab.range}</th>
                  </tr>
                </thead>
                <tbody>
                  {order.results.map((r) => (
                    <tr data-loinc={r.loinc} data-flag={r.interpretation}>
                      <th scope="row">{r.name}</th>
                      <td>
                        {r.value} {r.unit}{' '}
                        {r.interpretation !== 'N' && (
                          <span class={`flag-${r.interpretation}`}>{t.flags[r.interpretation] ?? r.interpretation}</span>
                        )}
                        <span class="muted"> · {t.lab.resultStatuses[r.status] ?? r.status}</span>
                      </td>
                      <td>
                        {r.referenceRange.low ?? '—'}–{r.referenceRange.high ?? '—'}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>
        )}
      </Layout>,
      status,
    );
  }

  const orderOf = async (c: WebContext) => {
    const id = idParam(c, 'id', 'lab_order_not_found');
    await auditedOrder(asApi(c), db, id, 'reader');
    return presentOrder(db, id);
  };

  web.get(
    '/lab/orders/:id',
    lab,
    page(async (c) => {
      const done = c.req.query('done');
      return renderOrder(c, await orderOf(c), { notice: done ? c.get('t').lab.stepDone : undefined });
    }),
  );

  /** A step's refusal shows on the order's page, in the visitor's language; anything else is the frame's error page. */
  async function step(
    c: WebContext,
    run: (id: string, form: Record<string, string>) => Promise<unknown>,
    fieldOf?: (err: ApiError, form: Record<string, string>) => OrderView | undefined,
  ) {
    const id = idParam(c, 'id', 'lab_order_not_found');
    const form = await formOf(c);
    try {
      await run(id, form);
      return c.redirect(`/lab/orders/${id}?done=1`, 303);
    } catch (err) {
      if (!(err instanceof ApiError) || err.status === 403 || err.status === 404) throw err;
      const t = c.get('t');
      const view = fieldOf?.(err, form) ?? { error: staffErrorText(t, err.code) };
      return renderOrder(c, await presentOrder(db, id), { ...view, values: form }, err.status === 409 ? 409 : 422);
    }
  }

  web.post(
    '/lab/orders/:id/collect',
    lab,
    checkCsrf,
    page((c) =>
      step(
        c,
        (id, f) => {
          const barcode = (f.barcode ?? '').trim();
          // The JSON route's schema rule for a barcode (api/lab-order/lab.ts), answered at the field.
          if (!/^[A-Za-z0-9-]{4,40}$/.test(barcode))
            throw new ApiError(422, 'validation_failed', 'A barcode is 4–40 letters, digits or hyphens.', { field: 'barcode' });
          return commands.collect(asApi(c), id, barcode);
        },
        (err) =>
          (err.details as { field?: string } | undefined)?.field === 'barcode' ? { barcodeError: c.get('t').lab.barcodeHelp } : undefined,
      ),
    ),
  );
  web.post(
    '/lab/orders/:id/receive',
    lab,
    checkCsrf,
    page((c) => step(c, (id) => commands.receive(asApi(c), id))),
  );
  web.post(
    '/lab/orders/:id/reject',
    lab,
    checkCsrf,
    page((c) =>
      step(c, (id, f) => {
        if (!(REJECTION_REASONS as readonly string[]).includes(f.reason ?? ''))
          throw new ApiError(400, 'validation_failed', 'Choose a reason.');
        return commands.reject(asApi(c), id, f.reason as RejectionReason);
      }),
    ),
  );
  web.post(
    '/lab/orders/:id/results',
    lab,
    checkCsrf,
    page((c) =>
      step(
        c,
        (id, f) => {
          const results: ResultInput[] = Object.keys(f)
            .filter((k) => k.startsWith('value:') && f[k]!.trim() !== '')
            .map((k) => {
              const loinc = k.slice('value:'.length);
              const raw = f[k]!.trim().replace(',', '.');
              // A number as typed; anything else goes to the process as text, which refuses it as not_finite at its field.
              const value = /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
              return { loinc, value, unit: f[`unit:${loinc}`] ?? '', status: f.status === 'preliminary' ? 'preliminary' : 'final' };
            });
          if (!results.length) throw new ApiError(422, 'not_finite', 'Enter at least one value.', { loinc: '' });
          return commands.postResults(asApi(c), id, results, /^[A-Za-z0-9_.:-]{8,128}$/.test(f.key ?? '') ? f.key : undefined);
        },
        (err) => {
          const loinc = (err.details as { loinc?: unknown } | undefined)?.loinc;
          return typeof loinc === 'string' ? { fieldError: { loinc, text: staffErrorText(c.get('t'), err.code) } } : undefined;
        },
      ),
    ),
  );
}

/** One row per test (panels expanded): value and unit, each refusal under its own row. */
function ResultsForm(props: { c: WebContext; action: string; tests: EntryTest[]; view: OrderView }) {
  const t = props.c.get('t');
  const { view } = props;
  return (
    <form method="post" action={`${props.action}/results`} class="results">
      <h2>{t.lab.resultsTitle}</h2>
      <CsrfField c={props.c} />
      <input type="hidden" name="key" value={view.values?.key ?? randomUUID()} />
      {view.fieldError && view.fieldError.loinc === '' && (
        <p class="field-error" role="alert">
          {view.fieldError.text}
        </p>
      )}
      {props.tests.map((test) => {
        const err = view.fieldError?.loinc === test.loinc ? view.fieldError.text : '';
        const id = `v-${test.loinc}`;
        return (
          <fieldset class="result-row" data-loinc={test.loinc}>
            <legend>
              {test.name} <span class="muted">(LOINC {test.loinc})</span>
            </legend>
            <div class="pair">
              <div>
                <label for={id}>{t.lab.value}</label>
                <input
                  id={id}
                  name={`value:${test.loinc}`}
                  inputmode="decimal"
                  autocomplete="off"
                  value={view.values?.[`value:${test.loinc}`] ?? ''}
                  aria-describedby={`${id}-error`}
                  aria-invalid={err ? 'true' : undefined}
                />
              </div>
              <div>
                <label for={`u-${test.loinc}`}>{t.lab.unit}</label>
                <select id={`u-${test.loinc}`} name={`unit:${test.loinc}`}>
                  {test.units.map((u) => (
                    <option value={u} selected={view.values?.[`unit:${test.loinc}`] === u}>
                      {u}
                    </option>
                  ))}
                </select>
              </div>
            </div>
            <p id={`${id}-error`} class="field-error">
              {err}
            </p>
          </fieldset>
        );
      })}
      <label for="result-status">{t.lab.resultStatus}</label>
      <select id="result-status" name="status">
        <option value="final">{t.lab.resultStatuses.final}</option>
        <option value="preliminary" selected={view.values?.status === 'preliminary'}>
          {t.lab.resultStatuses.preliminary}
        </option>
      </select>
      <div class="actions">
        <button type="submit">{t.lab.saveResults}</button>
      </div>
    </form>
  );
}
