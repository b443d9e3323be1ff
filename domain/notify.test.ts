import { renderMessage } from './notify-templates';
import {
  addressProblem,
  channelOrder,
  gatewayPhone,
  ignoresQuietHours,
  inQuietHours,
  MESSAGE_KINDS,
  policyNow,
  quietHoursEnd,
  realAt,
  type ContactPoint,
} from './notify';

const quiet = { quietFromMinute: 21 * 60, quietToMinute: 9 * 60 };
const at = (iso: string) => Date.parse(iso);

test('critical values and staff escalations ignore quiet hours; reminders, offers and other patient messages wait', () => {
  const ignoring = MESSAGE_KINDS.filter(ignoresQuietHours);
  expect(ignoring).toEqual([
    'critical-result',
    'critical-escalation-covering',
    'critical-escalation-head',
    'referral-near-breach',
    'referral-breached',
    'onboarding-task-overdue',
  ]);
});

describe("quiet hours in the recipient's zone", () => {
  test('a message due at 23:00 in Moscow waits for 09:00 the next morning', () => {
    expect(new Date(quietHoursEnd(at('2026-12-08T20:00:00Z'), 'Europe/Moscow', quiet)).toISOString()).toBe('2026-12-09T06:00:00.000Z');
  });
  test('one due at 03:00 waits for 09:00 the same day; one due at 14:00 goes at once', () => {
    expect(new Date(quietHoursEnd(at('2026-12-09T00:00:00Z'), 'Europe/Moscow', quiet)).toISOString()).toBe('2026-12-09T06:00:00.000Z');
    expect(quietHoursEnd(at('2026-12-09T11:00:00Z'), 'Europe/Moscow', quiet)).toBe(at('2026-12-09T11:00:00Z'));
  });
  test('the zone decides: 19:00 UTC is 21:00 in Kaliningrad (quiet) but 00:00 in Yekaterinburg', () => {
    expect(new Date(quietHoursEnd(at('2026-12-08T19:00:00Z'), 'Europe/Kaliningrad', quiet)).toISOString()).toBe('2026-12-09T07:00:00.000Z');
    expect(new Date(quietHoursEnd(at('2026-12-08T19:00:00Z'), 'Asia/Yekaterinburg', quiet)).toISOString()).toBe('2026-12-09T04:00:00.000Z');
  });
  test('the window edges: 21:00 is quiet, 09:00 is not; a window that does not wrap midnight; an empty one', () => {
    expect(inQuietHours(21 * 60, quiet.quietFromMinute, quiet.quietToMinute)).toBe(true);
    expect(inQuietHours(9 * 60, quiet.quietFromMinute, quiet.quietToMinute)).toBe(false);
    expect(inQuietHours(13 * 60, 12 * 60, 14 * 60)).toBe(true);
    expect(inQuietHours(0, 0, 0)).toBe(false);
  });
  test('a fast policy clock maps clinic time to real time and back', () => {
    const clock = { realEpochMs: 1000, localEpochMs: 5_000_000, scale: 3600 };
    expect(policyNow(2000, clock)).toBe(5_000_000 + 3_600_000);
    expect(realAt(policyNow(12_345, clock), clock)).toBe(12_345);
    expect(policyNow(42, null)).toBe(42);
  });
});

describe('channels', () => {
  const p = (channel: ContactPoint['channel'], extra: Partial<ContactPoint> = {}): ContactPoint => ({
    channel,
    address: channel === 'app' ? null : 'x',
    consent: true,
    preferred: false,
    ...extra,
  });
  test('the preferred channel first, then e-mail, SMS, the app; no consent or no address is skipped and said why', () => {
    const order = channelOrder(
      'patient',
      [p('app'), p('email', { consent: false }), p('sms', { preferred: true })],
      ['email', 'sms', 'app'],
    );
    expect(order).toEqual({ use: ['sms', 'app'], skipped: [{ channel: 'email', why: 'no-consent' }] });
    expect(channelOrder('patient', [p('sms', { address: null }), p('email')], ['email', 'sms', 'app']).use).toEqual(['email']);
  });
  test('a channel the deployment cannot send on is skipped', () => {
    expect(channelOrder('patient', [p('sms', { preferred: true })], ['email', 'app'])).toEqual({
      use: [],
      skipped: [{ channel: 'sms', why: 'channel-off' }],
    });
  });
  test('a doctor always has the app inbox first, then e-mail', () => {
    expect(channelOrder('practitioner', [p('email')], ['email', 'app']).use).toEqual(['app', 'email']);
    expect(channelOrder('practitioner', [], ['email', 'app']).use).toEqual(['app']);
  });
  test('addresses: e-mail and phone checks, phones as gateways want them', () => {
    expect(addressProblem('email', 'anna@example.ru')).toBeNull();
    expect(addressProblem('email', 'anna@')).toBe('not an e-mail address');
    expect(addressProblem('sms', '+79161234567')).toBeNull();
    expect(addressProblem('sms', '12')).toMatch(/10–15 digits/);
    expect(gatewayPhone('8 (916) 123-45-67')).toBe('79161234567');
    expect(gatewayPhone('+7 916 123 45 67')).toBe('79161234567');
  });
});

describe('templates', () => {
  const facts = {
    link: 'https://clinics.example/patient/inbox',
    visitLocal: '2026-12-09T10:30',
    holdUntilLocal: '2026-12-09T12:00',
    clinicName: 'Поликлиника 1',
  };
  test.each(MESSAGE_KINDS.map((k) => [k]))('%s: Russian first, English second, the link in both and in the SMS', (kind) => {
    const m = renderMessage(kind, facts);
    const [ru, en] = m.subject.split(' / ');
    expect(ru).toMatch(/[А-Яа-яЁё]/);
    expect(en).toMatch(/^[\x20-\x7e—]+$/);
    expect(m.text.split(facts.link)).toHaveLength(3);
    expect(m.sms.endsWith(facts.link)).toBe(true);
  });
  test('results ready says only that: no values, no test names', () => {
    const m = renderMessage('results-ready', facts);
    expect(m.sms).toBe('Ваши результаты готовы. https://clinics.example/patient/inbox');
    expect(m.text).not.toMatch(/\d+[.,]\d+\s*(mmol|ммоль)/);
  });
  test('an offer says until when it is held', () => {
    expect(renderMessage('waitlist-offer', facts).sms).toContain('до 09.12.2026 в 12:00');
  });
});
