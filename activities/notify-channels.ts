/**
 * The two outside channels. E-mail: nodemailer over SMTP (SMTP_URL), or a log-only transport when
 * no server is configured (the embedded start). SMS: an HTTP gateway adapter in the shape of SMS.ru
 * (`POST /sms/send` with `api_id`, `to`, `msg`, `json=1`; delivery reports to our callback). An
 * answer that says "never" (a bad address, a refused number) is non-retryable `Undeliverable`;
 * a timeout, a 5xx or a "try later" is retried by the activity's retry policy.
 */
import { ApplicationFailure } from '@temporalio/common';
import nodemailer, { type Transporter } from 'nodemailer';
import { gatewayPhone } from '../domain/notify';

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  messageId: string;
  deliveryKey: string;
}
export interface MailSender {
  send(mail: OutgoingMail): Promise<{ providerId: string }>;
  readonly logOnly: boolean;
  close(): void;
}

export interface OutgoingSms {
  to: string;
  text: string;
  clientId: string;
}
export interface SmsSender {
  send(sms: OutgoingSms): Promise<{ providerId: string }>;
}

const undeliverable = (message: string) => ApplicationFailure.create({ type: 'Undeliverable', message, nonRetryable: true });
const later = (message: string) => ApplicationFailure.create({ type: 'Busy', message });

/** SMTP through nodemailer; the Message-ID comes from the delivery's dedupe key, so a resend is recognisably the same message. */
export function createMailSender(opts: { smtpUrl: string | undefined; from: string; timeoutMs?: number }): MailSender {
  const timeout = opts.timeoutMs ?? 10_000;
  const transport: Transporter = opts.smtpUrl
    ? // Pooled: one SMTP conversation per message costs a connection and greeting each; a pool reuses them.
      nodemailer.createTransport({
        url: opts.smtpUrl,
        pool: true,
        maxConnections: 16,
        connectionTimeout: timeout,
        greetingTimeout: timeout,
        socketTimeout: timeout,
      } as Parameters<typeof nodemailer.createTransport>[0])
    : nodemailer.createTransport({ jsonTransport: true });
  return {
    logOnly: !opts.smtpUrl,
    async send(mail) {
      try {
        await transport.sendMail({
          from: opts.from,
          to: mail.to,
          subject: mail.subject,
          text: mail.text,
          messageId: mail.messageId,
          headers: { 'X-Delivery-Key': mail.deliveryKey, 'Auto-Submitted': 'auto-generated' },
        });
        return { providerId: mail.messageId };
      } catch (err) {
        const e = err as { responseCode?: number; code?: string };
        // 5xx on RCPT/DATA: the server will never take it (RFC 5321 permanent failure); 4xx and network errors: later.
        if (typeof e.responseCode === 'number' && e.responseCode >= 500 && e.responseCode < 600)
          throw undeliverable(`the mail server refused the message (${e.responseCode})`);
        throw later(`the mail server did not take the message (${e.responseCode ?? e.code ?? 'no answer'})`);
      }
    },
    close: () => transport.close(),
  };
}

/** SMS.ru per-number codes that will not change on a retry (bad number, refused, blacklisted…). */
const SMS_NEVER = new Set([202, 203, 204, 207, 208, 209, 230, 231, 232]);

/**
 * An SMS.ru-style gateway at `url` (e.g. https://sms.ru/sms/send): a form post with the key
 * (`api_id`), the number, the text, `json=1`, the sender name when set, and our `partner_msg_id`
 * (the delivery key's uuid) so the gateway's log and ours can be joined.
 */
export function createSmsSender(opts: { url: string; apiKey: string; sender?: string; timeoutMs?: number }): SmsSender {
  return {
    async send(sms) {
      const to = gatewayPhone(sms.to);
      const form = new URLSearchParams({ api_id: opts.apiKey, to, msg: sms.text, json: '1', partner_msg_id: sms.clientId });
      if (opts.sender) form.set('from', opts.sender);
      let res: Response;
      try {
        res = await fetch(opts.url, { method: 'POST', body: form, signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000) });
      } catch {
        throw later('the SMS gateway did not answer in time');
      }
      if (res.status >= 500 || res.status === 429) throw later(`the SMS gateway answered ${res.status}`);
      const body = (await res.json().catch(() => null)) as {
        status?: string;
        status_code?: number;
        sms?: Record<string, { status?: string; status_code?: number; sms_id?: string }>;
      } | null;
      if (!body) throw later(`the SMS gateway answered ${res.status} without JSON`);
      if (body.status !== 'OK') throw later(`the SMS gateway refused the request (${body.status_code ?? res.status})`);
      const one = body.sms?.[to];
      if (one?.status === 'OK' && one.sms_id) return { providerId: one.sms_id };
      const code = one?.status_code ?? 0;
      if (SMS_NEVER.has(code)) throw undeliverable(`the SMS gateway will not send to this number (${code})`);
      throw later(`the SMS gateway did not send (${code})`);
    },
  };
}
