/**
 * Real outside parts for the delivery tests: an SMTP server (`smtp-server`) that keeps every
 * message as it arrived (envelope, headers, text), and an HTTP SMS gateway double that speaks the
 * SMS.ru protocol our adapter uses (`POST` form `api_id`, `to`, `msg`, `json=1`), records each
 * call and can answer with a failure, a refusal of the number, or slowly.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ArrivedMail {
  from: string;
  to: string[];
  raw: string;
  headers: Record<string, string>;
  text: string;
  at: number;
}

/** Unfolds and decodes the headers we read (RFC 2047 base64/QP words in Subject/From). */
function parseMail(raw: string): { headers: Record<string, string>; text: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).toLowerCase()] = decodeWords(line.slice(i + 1).trim());
  }
  let body = raw.slice(split + 4);
  const cte = (headers['content-transfer-encoding'] ?? '').toLowerCase();
  if (cte === 'base64') body = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (cte === 'quoted-printable') body = decodeQp(body);
  return { headers, text: body };
}

function decodeQp(s: string): string {
  const bytes = s.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_m, h: string) => `%${h}`);
  try {
    return decodeURIComponent(bytes.replace(/%(?![0-9A-F]{2})/gi, '%25'));
  } catch {
    return s;
  }
}

function decodeWords(v: string): string {
  return v
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([BQ])\?([^?]*)\?=/gi, (_m, _cs: string, enc: string, text: string) =>
      enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64').toString('utf8') : decodeQp(text.replace(/_/g, ' ')),
    );
}

export interface SmtpCatcher {
  url: string;
  messages: ArrivedMail[];
  /** RCPT TO these addresses is refused with 550 (a mailbox that does not exist). */
  refuse: Set<string>;
  /** Called when a client sends MAIL FROM; a returned promise holds the answer until it settles. */
  onMailFrom: ((from: string) => Promise<void> | void) | null;
  close(): Promise<void>;
}

export async function startSmtpCatcher(): Promise<SmtpCatcher> {
  const catcher: Omit<SmtpCatcher, 'url' | 'close'> = { messages: [], refuse: new Set(), onMailFrom: null };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    banner: 'test catcher',
    onMailFrom(address, _session, cb) {
      Promise.resolve(catcher.onMailFrom?.(address.address)).then(
        () => cb(),
        () => cb(),
      );
    },
    onRcptTo(address, _session, cb) {
      if (catcher.refuse.has(address.address)) {
        const err = new Error('5.1.1 mailbox unavailable') as Error & { responseCode: number };
        err.responseCode = 550;
        cb(err);
        return;
      }
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        catcher.messages.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          ...parseMail(raw),
          at: Date.now(),
        });
        cb();
      });
    },
  });
  // A client killed mid-conversation resets its connection: that is the test, not a failure.
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return Object.assign(catcher, {
    url: `smtp://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

export interface SmsCall {
  apiId: string;
  to: string;
  msg: string;
  partnerMsgId: string;
  smsId: string | null;
  status: number;
}

export interface SmsGatewayDouble {
  url: string;
  calls: SmsCall[];
  /** How the next calls are answered: OK, a 500, a refusal of the number (SMS.ru code 207), or OK after a delay. */
  mode: 'ok' | 'fail' | 'refuse-number' | { slowMs: number };
  close(): Promise<void>;
}

export async function startSmsGatewayDouble(apiKey: string): Promise<SmsGatewayDouble> {
  const double: Omit<SmsGatewayDouble, 'url' | 'close'> = { calls: [], mode: 'ok' };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString('utf8');
    });
    req.on('end', async () => {
      const form = new URLSearchParams(body);
      const to = form.get('to') ?? '';
      const mode = double.mode;
      const call: SmsCall = {
        apiId: form.get('api_id') ?? '',
        to,
        msg: form.get('msg') ?? '',
        partnerMsgId: form.get('partner_msg_id') ?? '',
        smsId: null,
        status: 200,
      };
      double.calls.push(call);
      const json = (status: number, value: unknown) => {
        call.status = status;
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      };
      if (call.apiId !== apiKey) return json(200, { status: 'ERROR', status_code: 200, status_text: 'Неправильный api_id' });
      if (mode === 'fail') return json(500, { status: 'ERROR', status_code: 500 });
      if (mode === 'refuse-number')
        return json(200, {
          status: 'OK',
          status_code: 100,
          sms: { [to]: { status: 'ERROR', status_code: 207, status_text: 'На этот номер нельзя отправлять сообщения' } },
        });
      if (typeof mode === 'object') await new Promise((r) => setTimeout(r, mode.slowMs));
      call.smsId = `${randomUUID().slice(0, 6)}-${call.partnerMsgId.slice(0, 8)}`;
      return json(200, {
        status: 'OK',
        status_code: 100,
        sms: { [to]: { status: 'OK', status_code: 100, sms_id: call.smsId } },
        balance: 100,
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(double, {
    url: `http://127.0.0.1:${port}/sms/send`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
