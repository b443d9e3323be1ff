/**
 * An HTTP SMS gateway double speaking SMSC.ru's protocol (domain/sms-gateways.ts): `send.php` takes
 * a form (`login`/`psw`, `phones`, `mes`, our `id`, `fmt=3`) and answers `{"id","cnt"}`;
 * `status.php` answers for a phone and id the status of a message it took, or -3 (not found).
 * It records every send and lookup, and `onSend` can hold a send's answer after the message is
 * taken (the moment a worker is killed between the gateway's acceptance and our own record).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SmscSend {
  login: string;
  psw: string;
  phones: string;
  mes: string;
  id: string;
}

export interface SmscGatewayDouble {
  url: string;
  sends: SmscSend[];
  lookups: Array<{ phone: string; id: string; status: number }>;
  /** Called once a send is taken (recorded); a returned promise holds the answer until it settles. */
  onSend: ((send: SmscSend) => Promise<void> | void) | null;
  close(): Promise<void>;
}

export async function startSmscGatewayDouble(login: string, psw: string): Promise<SmscGatewayDouble> {
  const double: Omit<SmscGatewayDouble, 'url' | 'close'> = { sends: [], lookups: [], onSend: null };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString('utf8');
    });
    req.on('end', async () => {
      const form = new URLSearchParams(body);
      const json = (value: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      if (form.get('login') !== login || form.get('psw') !== psw) return json({ error: 'authorise error', error_code: 2 });
      if (req.url?.startsWith('/sys/status.php')) {
        const phone = form.get('phone') ?? '';
        const id = form.get('id') ?? '';
        const status = double.sends.some((s) => s.id === id && s.phones === phone) ? 0 : -3;
        double.lookups.push({ phone, id, status });
        return json(status === -3 ? { status } : { status, last_date: '07.12.2026 06:00:00', last_timestamp: 1796623200, err: 0 });
      }
      if (!req.url?.startsWith('/sys/send.php')) return res.writeHead(404).end();
      const send: SmscSend = {
        login: form.get('login') ?? '',
        psw: form.get('psw') ?? '',
        phones: form.get('phones') ?? '',
        mes: form.get('mes') ?? '',
        id: form.get('id') ?? '',
      };
      if (!/^7\d{10}$/.test(send.phones)) return json({ error: 'invalid number', error_code: 7 });
      double.sends.push(send);
      await double.onSend?.(send);
      return json({ id: send.id, cnt: 1 });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(double, {
    url: `http://127.0.0.1:${port}/sys/send.php`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
