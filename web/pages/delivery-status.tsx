/**
 * "Уведомления / Notifications" on a staff page that shows one appointment or referral: who was told what about it,
 * on which channel, how it went and why. Read through recordDeliveries (api/notify.ts), the rule and query behind
 * GET /{appointments|lab-orders|referrals}/{id}/deliveries.
 */
import type { Db } from '../../db';
import { ApiError } from '../../api/errors';
import { recordDeliveries, type DeliveryRecordKind } from '../../api/notify';
import { asApi, type WebContext } from '../env';
import { formatDateTime } from '../i18n';

export type DeliveryRows = Awaited<ReturnType<typeof recordDeliveries>>;

/** The record's deliveries, or null when this caller may not read them (the page then shows no list, not an error). */
export async function deliveriesOrNull(c: WebContext, db: Db, kind: DeliveryRecordKind, id: string): Promise<DeliveryRows | null> {
  try {
    return await recordDeliveries(asApi(c), db, kind, id);
  } catch (err) {
    if (err instanceof ApiError && err.status === 403) return null;
    throw err;
  }
}

export function DeliveryList(props: { c: WebContext; rows: DeliveryRows | null; timeZone: string }) {
  const { c, rows, timeZone } = props;
  if (!rows) return null;
  const n = c.get('t').opsNotify;
  const lang = c.get('lang');
  return (
    <section class="deliveries" aria-labelledby="deliveries-title">
      <h2 id="deliveries-title">{n.deliveriesTitle}</h2>
      {rows.length ? (
        <div class="table-scroll" tabindex={0} role="region" aria-labelledby="deliveries-title">
          <table class="deliveries">
            <thead>
              <tr>
                <th scope="col">{n.kind}</th>
                <th scope="col">{n.channel}</th>
                <th scope="col">{n.status}</th>
                <th scope="col">{n.reason}</th>
                <th scope="col">{`${n.time} (${timeZone})`}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((d) => {
                const at = d.delivered_at ?? d.failed_at ?? d.sent_at ?? d.decided_at;
                return (
                  <tr data-channel={d.channel} data-status={d.status}>
                    <td>
                      {n.kinds[d.kind] ?? d.kind} <span class="muted">({n.recipients[d.recipient_type] ?? d.recipient_type})</span>
                    </td>
                    <td>{n.channels[d.channel] ?? d.channel}</td>
                    <td class="status">{n.statuses[d.status] ?? d.status}</td>
                    <td>{d.reason ? (n.reasons[d.reason] ?? d.reason) : '—'}</td>
                    <td>
                      <time datetime={at.toISOString()}>{formatDateTime(lang, at, timeZone)}</time>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : (
        <p class="muted">{n.noDeliveries}</p>
      )}
    </section>
  );
}
