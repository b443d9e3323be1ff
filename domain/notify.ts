/**
 * Messages to people (issue 23): what kinds there are, which ignore quiet hours, the channel
 * order for a recipient, quiet hours in the recipient's zone, and the delivery policy. Pure: the
 * caller passes "now" and the zone.
 */
import { startOfLocalDay } from './calendar';
import { addDays, localDateTime } from './time';

export type Channel = 'email' | 'sms' | 'app';
export const CHANNELS: readonly Channel[] = ['email', 'sms', 'app'];

/** What a process decided to tell someone; the outbox row's kind. */
export type MessageKind =
  | 'reminder'
  | 'waitlist-offer'
  | 'cancelled'
  | 'rescheduled'
  | 'results-ready'
  | 'critical-result'
  | 'critical-escalation-covering'
  | 'critical-escalation-head'
  | 'referral-near-breach'
  | 'referral-breached'
  | 'onboarding-task-overdue';

/** Staff messages of the referral and onboarding processes (the `staff_notifications` outbox). */
export const STAFF_MESSAGE_KINDS = ['referral-near-breach', 'referral-breached', 'onboarding-task-overdue'] as const;
export type StaffMessageKind = (typeof STAFF_MESSAGE_KINDS)[number];

export const MESSAGE_KINDS: readonly MessageKind[] = [
  'reminder',
  'waitlist-offer',
  'cancelled',
  'rescheduled',
  'results-ready',
  'critical-result',
  'critical-escalation-covering',
  'critical-escalation-head',
  ...STAFF_MESSAGE_KINDS,
];

/**
 * Critical values and escalations are never held back by quiet hours (clinical-facts.md, "Patient and
 * staff messages"): those of a critical value, and staff escalations (a referral about to breach its
 * legal waiting time, an overdue onboarding task). Reminders, offers and the other patient messages wait.
 */
export function ignoresQuietHours(kind: MessageKind): boolean {
  return kind.startsWith('critical-') || (STAFF_MESSAGE_KINDS as readonly string[]).includes(kind);
}

export interface Recipient {
  type: 'patient' | 'practitioner';
  id: string;
}

/**
 * A clock for the policy: production reads the real clock (scale 1, no shift). A test that must
 * show "due at 23:00, sent at 09:00" without a time-skipping server runs the clinic's clock fast:
 * clinic time = `localEpochMs` + (real − `realEpochMs`) × `scale`.
 */
export interface PolicyClock {
  realEpochMs: number;
  localEpochMs: number;
  scale: number;
}

export interface NotifyPolicy {
  /** Quiet hours, minutes after local midnight: [from, to), wrapping midnight when from > to. */
  quietFromMinute: number;
  quietToMinute: number;
  /** Attempts on one channel before moving to the next, and the backoff between them. */
  attemptsPerChannel: number;
  retryInitialSeconds: number;
  retryMaxSeconds: number;
  /** One send attempt's limit (an SMTP or gateway call that hangs is retried after it). */
  sendTimeoutSeconds: number;
  /** How long a sent SMS waits for the gateway's delivery report before it counts as delivered enough. */
  smsReportSeconds: number;
  clock: PolicyClock | null;
}

export const DEFAULT_NOTIFY_POLICY: NotifyPolicy = {
  quietFromMinute: 21 * 60,
  quietToMinute: 9 * 60,
  attemptsPerChannel: 5,
  retryInitialSeconds: 2,
  retryMaxSeconds: 60,
  sendTimeoutSeconds: 30,
  smsReportSeconds: 600,
  clock: null,
};

/** The clinic clock's instant for a real instant. */
export function policyNow(realMs: number, clock: PolicyClock | null): number {
  return clock ? clock.localEpochMs + (realMs - clock.realEpochMs) * clock.scale : realMs;
}

/** The real instant at which the clinic clock reads `policyMs`. */
export function realAt(policyMs: number, clock: PolicyClock | null): number {
  return clock ? clock.realEpochMs + (policyMs - clock.localEpochMs) / clock.scale : policyMs;
}

const minuteOf = (local: string) => Number(local.slice(11, 13)) * 60 + Number(local.slice(14, 16));

/** True when `minute` (after local midnight) lies in the quiet window. */
export function inQuietHours(minute: number, from: number, to: number): boolean {
  return from > to ? minute >= from || minute < to : minute >= from && minute < to;
}

/**
 * The earliest instant at or after `atMs` outside quiet hours in `timeZone`: `atMs` itself when it
 * is not quiet, else the next local `quietToMinute` (the morning).
 */
export function quietHoursEnd(atMs: number, timeZone: string, policy: Pick<NotifyPolicy, 'quietFromMinute' | 'quietToMinute'>): number {
  const local = localDateTime(new Date(atMs), timeZone);
  const minute = minuteOf(local);
  if (!inQuietHours(minute, policy.quietFromMinute, policy.quietToMinute)) return atMs;
  const date = local.slice(0, 10);
  const morningDate = policy.quietFromMinute > policy.quietToMinute && minute >= policy.quietFromMinute ? addDays(date, 1) : date;
  return startOfLocalDay(morningDate, timeZone).getTime() + policy.quietToMinute * 60_000;
}

export interface ContactPoint {
  channel: Channel;
  address: string | null;
  consent: boolean;
  preferred: boolean;
}

/** Why a channel is not tried, for the ops list and the delivery record. */
export type SkipReason = 'no-consent' | 'no-address' | 'channel-off';

/**
 * The channels to try, in order: the preferred one first, then e-mail, SMS, the app. Only those
 * with consent and (e-mail, SMS) an address; `available` says which the deployment can send on.
 * A practitioner always has the app inbox first (the on-call doctor's screen), then e-mail.
 */
export function channelOrder(
  recipient: Recipient['type'],
  points: ContactPoint[],
  available: readonly Channel[],
): { use: Channel[]; skipped: Array<{ channel: Channel; why: SkipReason }> } {
  const skipped: Array<{ channel: Channel; why: SkipReason }> = [];
  const usable = (p: ContactPoint): boolean => {
    const why: SkipReason | null = !p.consent
      ? 'no-consent'
      : p.channel !== 'app' && !p.address
        ? 'no-address'
        : !available.includes(p.channel)
          ? 'channel-off'
          : null;
    if (why) skipped.push({ channel: p.channel, why });
    return why === null;
  };
  if (recipient === 'practitioner') {
    const email = points.find((p) => p.channel === 'email');
    return { use: ['app', ...(email && usable(email) ? ['email' as const] : [])], skipped };
  }
  const ordered = [...points].sort(
    (a, b) => Number(b.preferred) - Number(a.preferred) || CHANNELS.indexOf(a.channel) - CHANNELS.indexOf(b.channel),
  );
  return { use: ordered.filter(usable).map((p) => p.channel), skipped };
}

/** A light check of what a patient types; the gateway and the mail server have the last word. */
export function addressProblem(channel: Channel, address: string | null): string | null {
  if (channel === 'app') return null;
  if (!address) return `${channel} needs an address`;
  if (channel === 'email') return /^[^\s@]{1,64}@[^\s@]{1,255}\.[^\s@]{2,}$/.test(address) ? null : 'not an e-mail address';
  return /^\+?[1-9]\d{9,14}$/.test(address) ? null : 'a phone number is 10–15 digits, optionally after +';
}

/** The phone number as gateways want it: digits only, Russian 8XXXXXXXXXX written as 7XXXXXXXXXX. */
export function gatewayPhone(address: string): string {
  const digits = address.replace(/\D/g, '');
  return digits.length === 11 && digits.startsWith('8') ? `7${digits.slice(1)}` : digits;
}
