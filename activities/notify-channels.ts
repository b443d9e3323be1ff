/**
 * The two outside channels. E-mail: nodemailer over SMTP (SMTP_URL), or a log-only transport when
 * no server is configured (the embedded start). SMS: an HTTP gateway adapter for SMS.ru or SMSC.ru
 * (domain/sms-gateways.ts; delivery reports to our callback). An
 * answer that says "never" (a bad address, a refused number) is non-retryable `Undeliverable`;
 * a timeout, a 5xx or a "try later" is retried by the activity's retry policy.
 */
import { ApplicationFailure } from '@temporalio/common';
import nodemailer, { type Transporter } from 'nodemailer';
import { smsProtocol, type FormRequest, type SmsGatewayKind, type SmsGatewaySettings } from '../domain/sms-gateways';

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
  readonly kind: SmsGatewayKind;
  send(sms: OutgoingSms): Promise<{ providerId: string }>;
  /**
   * Gateways that take our own message id: whether the gateway already has the message with this id
   * (a send cut off by a kill), so a retry does not send it twice; null when it has never seen it.
   */
  lookup?(sms: { to: string; clientId: string }): Promise<{ providerId: string } | null>;
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

/**
 * An SMS gateway at `url` speaking one of the protocols in domain/sms-gateways.ts (SMS.ru by
 * default, SMSC.ru by `SMS_GATEWAY_KIND=smsc`): a form post with the key, the number, the text,
 * the sender name when set, and our client id (the delivery key's uuid). Where the gateway can be
 * asked about a message by that id, `lookup` says whether it already has it.
 */
export function createSmsSender(opts: SmsGatewaySettings & { kind?: SmsGatewayKind; timeoutMs?: number }): SmsSender {
  const protocol = smsProtocol(opts.kind ?? 'smsru');
  const post = async ({ url, form }: FormRequest): Promise<{ status: number; body: unknown }> => {
    let res: Response;
    try {
      res = await fetch(url, { method: 'POST', body: form, signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000) });
    } catch {
      throw later('the SMS gateway did not answer in time');
    }
    return { status: res.status, body: await res.json().catch(() => null) };
  };
  const lookupRequest = protocol.lookupRequest;
  const readLookup = protocol.readLookup;
  return {
    kind: protocol.kind,
    async send(sms) {
      const { status, body } = await post(protocol.sendRequest(opts, sms));
      const answer = protocol.readSend(status, body, sms);
      if (answer.taken) return { providerId: answer.providerId };
      throw answer.final ? undeliverable(answer.reason) : later(answer.reason);
    },
    lookup:
      lookupRequest && readLookup
        ? async (sms) => {
            const { status, body } = await post(lookupRequest(opts, sms));
            const answer = readLookup(status, body, sms);
            if ('unclear' in answer) throw later(answer.unclear);
            return answer.known ? { providerId: answer.providerId } : null;
          }
        : undefined,
  };
}
