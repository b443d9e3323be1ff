/**
 * The request, answer and delivery-report shapes of the Russian SMS gateways we speak, behind one
 * interface (docs/notifications.md, "SMS gateways"). Pure: the adapter (activities/notify-channels.ts)
 * does the HTTP; the callback route (api/notify.ts) reads reports with `parseReports`.
 *
 * - `smsru`: SMS.ru (`POST /sms/send`, `api_id`, `to`, `msg`, `json=1`). Its published API has no
 *   client-assigned message id to look up, so a send cut off by a kill can be repeated.
 * - `smsc`: SMSC.ru (`/sys/send.php`, `login`+`psw` or `apikey`, `phones`, `mes`, `id`, `fmt=3`).
 *   The `id` is ours (the delivery key's uuid), and `/sys/status.php?phone=&id=` answers for it,
 *   so a retry first asks whether the gateway already has the message.
 */
import { gatewayPhone } from './notify';

export type SmsGatewayKind = 'smsru' | 'smsc';
export const SMS_GATEWAY_KINDS: readonly SmsGatewayKind[] = ['smsru', 'smsc'];

export interface SmsGatewaySettings {
  /** The send endpoint, e.g. https://sms.ru/sms/send or https://smsc.ru/sys/send.php. */
  url: string;
  /** SMS.ru: the `api_id`. SMSC.ru: `login:password`, or an API key alone. */
  apiKey: string;
  sender?: string;
}

export interface FormRequest {
  url: string;
  form: URLSearchParams;
}

/** What a send answer says: taken (with the gateway's id), refused for good, or try again later. */
export type SendAnswer = { taken: true; providerId: string } | { taken: false; final: boolean; reason: string };

/** What a status lookup by our id says: the gateway has it (do not send again), or it has never seen it. */
export type LookupAnswer = { known: true; providerId: string } | { known: false } | { unclear: string };

export interface DeliveryReport {
  providerId: string;
  outcome: 'delivered' | 'failed';
  reason: string | null;
}

export interface SmsProtocol {
  kind: SmsGatewayKind;
  sendRequest(s: SmsGatewaySettings, sms: { to: string; text: string; clientId: string }): FormRequest;
  readSend(httpStatus: number, body: unknown, sms: { to: string; clientId: string }): SendAnswer;
  /** Present when the gateway can be asked about a message by our own id. */
  lookupRequest?(s: SmsGatewaySettings, sms: { to: string; clientId: string }): FormRequest;
  readLookup?(httpStatus: number, body: unknown, sms: { clientId: string }): LookupAnswer;
  /** The delivery reports in one callback request (its form fields), final ones only. */
  parseReports(form: Record<string, string | string[]>): DeliveryReport[];
  /** What the gateway expects the callback to answer. */
  callbackAnswer: string;
}

type Json = Record<string, unknown>;
const asJson = (body: unknown): Json | null => (body && typeof body === 'object' ? (body as Json) : null);
const values = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** SMS.ru per-number codes that will not change on a retry (bad number, refused, blacklisted…). */
const SMSRU_NEVER = new Set([202, 203, 204, 207, 208, 209, 230, 231, 232]);
/** SMS.ru delivery-report codes: delivered, and the final failures. Others (in transit) are not final. */
export const SMSRU_DELIVERED: ReadonlySet<number> = new Set([103, 110]);
export const SMSRU_FAILED: ReadonlySet<number> = new Set([104, 105, 106, 107, 108, 150]);

export const smsRu: SmsProtocol = {
  kind: 'smsru',
  sendRequest(s, sms) {
    const form = new URLSearchParams({
      api_id: s.apiKey,
      to: gatewayPhone(sms.to),
      msg: sms.text,
      json: '1',
      partner_msg_id: sms.clientId,
    });
    if (s.sender) form.set('from', s.sender);
    return { url: s.url, form };
  },
  readSend(status, raw, sms) {
    if (status >= 500 || status === 429) return { taken: false, final: false, reason: `the SMS gateway answered ${status}` };
    const body = asJson(raw) as { status?: string; status_code?: number; sms?: Record<string, Json> } | null;
    if (!body) return { taken: false, final: false, reason: `the SMS gateway answered ${status} without JSON` };
    if (body.status !== 'OK')
      return { taken: false, final: false, reason: `the SMS gateway refused the request (${body.status_code ?? status})` };
    const one = body.sms?.[gatewayPhone(sms.to)] as { status?: string; status_code?: number; sms_id?: string } | undefined;
    if (one?.status === 'OK' && one.sms_id) return { taken: true, providerId: String(one.sms_id) };
    const code = one?.status_code ?? 0;
    if (SMSRU_NEVER.has(code)) return { taken: false, final: true, reason: `the SMS gateway will not send to this number (${code})` };
    return { taken: false, final: false, reason: `the SMS gateway did not send (${code})` };
  },
  parseReports(form) {
    const lines = Object.entries(form)
      .filter(([k]) => /^data(\[\d*\])?$/.test(k))
      .flatMap(([, v]) => values(v));
    const out: DeliveryReport[] = [];
    for (const line of lines) {
      const [what, smsId, codeText] = line.split('\n').map((x) => x.trim());
      const code = Number(codeText);
      if (what !== 'sms_status' || !smsId || !(SMSRU_DELIVERED.has(code) || SMSRU_FAILED.has(code))) continue;
      const delivered = SMSRU_DELIVERED.has(code);
      out.push({ providerId: smsId, outcome: delivered ? 'delivered' : 'failed', reason: delivered ? null : `gateway status ${code}` });
    }
    return out;
  },
  callbackAnswer: '100',
};

/** SMSC.ru send errors that a retry will not cure: bad parameters, date, forbidden text, bad number, undeliverable number. */
const SMSC_SEND_NEVER = new Set([1, 5, 6, 7, 8]);
/** SMSC.ru message statuses: delivered (1), read (2), link opened (4); final failures; -3 "not found". */
export const SMSC_DELIVERED: ReadonlySet<number> = new Set([1, 2, 4]);
export const SMSC_FAILED: ReadonlySet<number> = new Set([3, 20, 22, 23, 24, 25]);
const SMSC_NOT_FOUND = -3;

/** `login:password` as SMSC.ru's login and psw; a key alone as its `apikey`. */
function smscAuth(apiKey: string): Record<string, string> {
  const colon = apiKey.indexOf(':');
  return colon > 0 ? { login: apiKey.slice(0, colon), psw: apiKey.slice(colon + 1) } : { apikey: apiKey };
}

/** SMSC.ru's status endpoint beside its send endpoint (…/sys/send.php → …/sys/status.php). */
export function smscStatusUrl(sendUrl: string): string {
  return new URL('status.php', sendUrl).toString();
}

export const smsc: SmsProtocol = {
  kind: 'smsc',
  sendRequest(s, sms) {
    const form = new URLSearchParams({
      ...smscAuth(s.apiKey),
      phones: gatewayPhone(sms.to),
      mes: sms.text,
      id: sms.clientId,
      charset: 'utf-8',
      fmt: '3',
    });
    if (s.sender) form.set('sender', s.sender);
    return { url: s.url, form };
  },
  readSend(status, raw, sms) {
    if (status >= 500 || status === 429) return { taken: false, final: false, reason: `the SMS gateway answered ${status}` };
    const body = asJson(raw) as { id?: unknown; cnt?: number; error?: string; error_code?: number } | null;
    if (!body) return { taken: false, final: false, reason: `the SMS gateway answered ${status} without JSON` };
    if (typeof body.error_code === 'number') {
      const final = SMSC_SEND_NEVER.has(body.error_code);
      return { taken: false, final, reason: `the SMS gateway ${final ? 'will not send' : 'did not send'} (error ${body.error_code})` };
    }
    // The answer's id is the one we gave; we keep ours (the callback and the status lookup name it).
    if (body.id !== undefined && (body.cnt ?? 1) > 0) return { taken: true, providerId: sms.clientId };
    return { taken: false, final: false, reason: 'the SMS gateway answered without an id' };
  },
  lookupRequest(s, sms) {
    return {
      url: smscStatusUrl(s.url),
      form: new URLSearchParams({ ...smscAuth(s.apiKey), phone: gatewayPhone(sms.to), id: sms.clientId, fmt: '3' }),
    };
  },
  readLookup(status, raw, sms) {
    if (status >= 500 || status === 429) return { unclear: `the SMS gateway answered ${status}` };
    const body = asJson(raw) as { status?: number; error_code?: number } | null;
    if (!body) return { unclear: `the SMS gateway answered ${status} without JSON` };
    if (typeof body.error_code === 'number') return { unclear: `the SMS gateway could not look it up (error ${body.error_code})` };
    if (body.status === SMSC_NOT_FOUND) return { known: false };
    if (typeof body.status === 'number') return { known: true, providerId: sms.clientId };
    return { unclear: 'the SMS gateway answered without a status' };
  },
  parseReports(form) {
    const id = values(form.id)[0];
    const code = Number(values(form.status)[0]);
    if (!id || !(SMSC_DELIVERED.has(code) || SMSC_FAILED.has(code))) return [];
    const delivered = SMSC_DELIVERED.has(code);
    const err = values(form.err)[0];
    return [
      {
        providerId: id,
        outcome: delivered ? 'delivered' : 'failed',
        reason: delivered ? null : `gateway status ${code}${err && err !== '0' ? ` (err ${err})` : ''}`,
      },
    ];
  },
  callbackAnswer: 'OK',
};

export function smsProtocol(kind: SmsGatewayKind): SmsProtocol {
  return kind === 'smsc' ? smsc : smsRu;
}
