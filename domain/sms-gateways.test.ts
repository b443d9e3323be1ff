import { smsc, smscStatusUrl, smsProtocol, smsRu } from './sms-gateways';

const settings = { url: 'https://smsc.ru/sys/send.php', apiKey: 'clinic:secret', sender: 'Poliklinika' };
const sms = { to: '8 (912) 345-67-89', text: 'Напоминаем: у вас приём', clientId: '0f8e6b2a-3c4d-5e6f-8a9b-0c1d2e3f4a5b' };

describe('SMSC.ru: the request we send', () => {
  test('a send is a form with login and psw, the number in 7… form, the text, our own id, UTF-8 and JSON answers', () => {
    const { url, form } = smsc.sendRequest(settings, sms);
    expect(url).toBe('https://smsc.ru/sys/send.php');
    expect(Object.fromEntries(form)).toEqual({
      login: 'clinic',
      psw: 'secret',
      phones: '79123456789',
      mes: 'Напоминаем: у вас приём',
      id: sms.clientId,
      charset: 'utf-8',
      fmt: '3',
      sender: 'Poliklinika',
    });
  });

  test('a key without a colon is sent as the apikey, and no sender when none is registered', () => {
    const form = Object.fromEntries(smsc.sendRequest({ url: settings.url, apiKey: 'k3y' }, sms).form);
    expect(form).toMatchObject({ apikey: 'k3y' });
    expect(form).not.toHaveProperty('login');
    expect(form).not.toHaveProperty('sender');
  });

  test('the status lookup goes to status.php beside send.php with the phone and our id', () => {
    expect(smscStatusUrl('https://smsc.ru/sys/send.php')).toBe('https://smsc.ru/sys/status.php');
    const { url, form } = smsc.lookupRequest!(settings, sms);
    expect(url).toBe('https://smsc.ru/sys/status.php');
    expect(Object.fromEntries(form)).toEqual({ login: 'clinic', psw: 'secret', phone: '79123456789', id: sms.clientId, fmt: '3' });
  });
});

describe('SMSC.ru: the answers we read', () => {
  test('{"id", "cnt"} is taken, under our own id (the one its callback and status name)', () => {
    expect(smsc.readSend(200, { id: sms.clientId, cnt: 1 }, sms)).toEqual({ taken: true, providerId: sms.clientId });
  });

  test('a bad number (error 7) or an undeliverable one (8) is final; no money (3) or too many requests (9) is for later', () => {
    expect(smsc.readSend(200, { error: 'invalid number', error_code: 7 }, sms)).toMatchObject({ taken: false, final: true });
    expect(smsc.readSend(200, { error: "can't deliver", error_code: 8 }, sms)).toMatchObject({ taken: false, final: true });
    expect(smsc.readSend(200, { error: 'no money', error_code: 3 }, sms)).toMatchObject({ taken: false, final: false });
    expect(smsc.readSend(200, { error: 'duplicate request', error_code: 9 }, sms)).toMatchObject({ taken: false, final: false });
    expect(smsc.readSend(503, null, sms)).toMatchObject({ taken: false, final: false });
    expect(smsc.readSend(200, 'not json', sms)).toMatchObject({ taken: false, final: false });
  });

  test('a lookup: status -3 is "never seen it", any other status means it has the message, an error is unclear', () => {
    expect(smsc.readLookup!(200, { status: -3 }, sms)).toEqual({ known: false });
    expect(smsc.readLookup!(200, { status: 0, last_timestamp: 1765000000 }, sms)).toEqual({ known: true, providerId: sms.clientId });
    expect(smsc.readLookup!(200, { status: 1 }, sms)).toEqual({ known: true, providerId: sms.clientId });
    expect(smsc.readLookup!(200, { error: 'auth', error_code: 2 }, sms)).toHaveProperty('unclear');
    expect(smsc.readLookup!(502, null, sms)).toHaveProperty('unclear');
  });

  test('its delivery callback (id, phone, status, err): 1 delivered, 20/22/3 failed with the code, -1/0 not final', () => {
    expect(smsc.parseReports({ id: 'abc', phone: '79123456789', status: '1', err: '0' })).toEqual([
      { providerId: 'abc', outcome: 'delivered', reason: null },
    ]);
    expect(smsc.parseReports({ id: 'abc', phone: '79123456789', status: '20', err: '1' })).toEqual([
      { providerId: 'abc', outcome: 'failed', reason: 'gateway status 20 (err 1)' },
    ]);
    expect(smsc.parseReports({ id: 'abc', status: '3' })[0]).toMatchObject({ outcome: 'failed' });
    expect(smsc.parseReports({ id: 'abc', status: '0' })).toEqual([]);
    expect(smsc.parseReports({ id: 'abc', status: '-1' })).toEqual([]);
    expect(smsc.parseReports({ status: '1' })).toEqual([]);
    expect(smsc.callbackAnswer).toBe('OK');
  });
});

describe('SMS.ru keeps its shapes behind the same interface', () => {
  test('a send is api_id, to, msg, json=1 and our partner_msg_id; a per-number 207 is final', () => {
    const { form } = smsRu.sendRequest({ url: 'https://sms.ru/sms/send', apiKey: 'key' }, sms);
    expect(Object.fromEntries(form)).toEqual({ api_id: 'key', to: '79123456789', msg: sms.text, json: '1', partner_msg_id: sms.clientId });
    expect(smsRu.readSend(200, { status: 'OK', sms: { '79123456789': { status: 'OK', sms_id: '000-1' } } }, sms)).toEqual({
      taken: true,
      providerId: '000-1',
    });
    expect(smsRu.readSend(200, { status: 'OK', sms: { '79123456789': { status: 'ERROR', status_code: 207 } } }, sms)).toMatchObject({
      final: true,
    });
    expect(smsRu.lookupRequest).toBeUndefined();
  });

  test('its callback lines: 103 delivered, 104 failed, 102 (in transit) left out; answered "100"', () => {
    expect(
      smsRu.parseReports({ 'data[0]': 'sms_status\n000-1\n103\n1765000000', 'data[1]': 'sms_status\n000-2\n104\n1765000000' }),
    ).toEqual([
      { providerId: '000-1', outcome: 'delivered', reason: null },
      { providerId: '000-2', outcome: 'failed', reason: 'gateway status 104' },
    ]);
    expect(smsRu.parseReports({ 'data[0]': 'sms_status\n000-3\n102\n1765000000' })).toEqual([]);
    expect(smsProtocol('smsru').callbackAnswer).toBe('100');
    expect(smsProtocol('smsc')).toBe(smsc);
  });
});
