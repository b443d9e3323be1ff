/**
 * The referral's vocabulary, shared by every layer: its steps, waiting-time policy with the
 * production defaults, the workflow's input and state, and the FHIR mapping. Pure: no I/O.
 * Deadlines themselves are computed with domain/calendar.ts by whoever starts the process, so the
 * workflow bundle never carries the holiday tables.
 */
import type { WaitTime } from './calendar';

export type ReferralKind = 'specialist' | 'diagnostic' | 'gp';
export type ReferralUrgency = 'routine' | 'cancer-suspected' | 'urgent';
export const REFERRAL_KINDS: readonly ReferralKind[] = ['specialist', 'diagnostic', 'gp'];
export const REFERRAL_URGENCIES: readonly ReferralUrgency[] = ['routine', 'cancer-suspected', 'urgent'];

/** The process's steps. `acknowledged` is recorded as an event on the way to `closed`. */
export type ReferralStatus = 'created' | 'offered' | 'booked' | 'attended' | 'reported' | 'closed' | 'cancelled' | 'expired';
export const OPEN_STATUSES: readonly ReferralStatus[] = ['created', 'offered', 'booked', 'attended', 'reported'];
/** Awaiting a booking: the registrar's work queue. */
/** How many slots a referral offers at once (the process records them; the API tops them up to this). */
export const REFERRAL_OFFER_LIMIT = 5;
export const AWAITING_BOOKING: readonly ReferralStatus[] = ['created', 'offered'];
export const CANCELLABLE: readonly ReferralStatus[] = ['created', 'offered', 'booked'];

/** Durations in seconds so tests can pass seconds; the wait itself is computed into deadlineAt. */
export interface ReferralPolicy {
  wait: WaitTime;
  /** Share of the wait after which an unbooked referral goes to the top of the registrar queue. */
  escalationShare: number;
  /** How long the referring doctor has to acknowledge the report before a reminder, and again before the head of department. */
  acknowledgeSeconds: number;
  /** No-shows at the specialist after which the referral is given up. */
  noShowLimit: number;
  /** Validity when the referrer names none. */
  validityDays: number;
}

const BASE = { escalationShare: 0.5, acknowledgeSeconds: 3 * 86_400, noShowLimit: 2, validityDays: 30 } as const;

/**
 * Production defaults: Russia's programme of state guarantees of free medical care (2026).
 * Specialist consultation 14 working days, 3 when cancer is suspected; diagnostic tests 14 (7 when
 * cancer is suspected); a GP visit within 24 hours; urgent (non-emergency) care within 2 hours.
 * Regions and clinics may set shorter times: referral_policies rows override these.
 */
export function defaultReferralPolicy(kind: ReferralKind, urgency: ReferralUrgency): ReferralPolicy {
  if (urgency === 'urgent') return { ...BASE, wait: { hours: 2 } };
  if (kind === 'gp') return { ...BASE, wait: { hours: 24 } };
  if (urgency === 'cancer-suspected') return { ...BASE, wait: { workingDays: kind === 'diagnostic' ? 7 : 3 } };
  return { ...BASE, wait: { workingDays: 14 } };
}

/** The table column `priority` (FHIR request priority) for an urgency. */
export function fhirPriority(urgency: ReferralUrgency): 'routine' | 'urgent' | 'asap' {
  return urgency === 'routine' ? 'routine' : urgency === 'urgent' ? 'urgent' : 'asap';
}

/** ICD-10 code shape: letter, two digits (or digit+A/B), optional dot and up to 4 characters. U is WHO-reserved. */
export const ICD10 = /^[A-TV-Z][0-9][0-9AB](\.[0-9A-Z]{1,4})?$/;

export const referralWorkflowId = (referralId: string) => `referral-${referralId}`;

export interface ReferralInput {
  referralId: string;
  patientId: string;
  /** The referring clinic: its registrar queue gets the escalations. */
  clinicId: string;
  referringPractitionerId: string;
  specialty: string;
  targetPractitionerId: string | null;
  kind: ReferralKind;
  urgency: ReferralUrgency;
  createdAt: string;
  deadlineAt: string;
  validUntil: string;
  policy: ReferralPolicy;
}

export interface SlotOffer {
  slotId: string;
  practitionerId: string;
  clinicId: string;
  startsAt: string;
  withinDeadline: boolean;
}

export interface ReportInput {
  practitionerId: string;
  patientId: string;
  conclusion: string;
  icd10: string[];
  recommendations: string;
}

export interface ReferralState {
  status: ReferralStatus;
  deadlineAt: string;
  escalateAt: string;
  validUntil: string;
  breached: boolean;
  /** 0 none; 1 top of the registrar queue; 2 head of department. */
  escalationLevel: number;
  appointmentId: string | null;
  /** The practitioner the patient is booked with (who may post the report). */
  appointmentPractitionerId: string | null;
  offered: SlotOffer[];
  noShows: number;
  reportedAt: string | null;
  /** 0 none; 1 reminder sent; 2 head of department told. */
  acknowledgeLevel: number;
}

export interface BookReferralRequest {
  slotId: string;
  by: string;
}
export interface AcknowledgeRequest {
  practitionerId: string;
  by: string;
}
export interface CancelReferralRequest {
  by: string;
  reason: string;
}

/** The instant at which an unbooked referral is escalated to the registrar queue's top. */
export function escalationAt(createdAt: string, deadlineAt: string, share: number): string {
  const start = Date.parse(createdAt);
  return new Date(start + Math.round((Date.parse(deadlineAt) - start) * share)).toISOString();
}

// FHIR R4: ServiceRequest.status (request-status) and Task.status (task-status).
export type FhirRequestStatus = 'draft' | 'active' | 'on-hold' | 'revoked' | 'completed' | 'entered-in-error' | 'unknown';
export type FhirTaskStatus =
  | 'draft'
  | 'requested'
  | 'received'
  | 'accepted'
  | 'rejected'
  | 'ready'
  | 'cancelled'
  | 'in-progress'
  | 'on-hold'
  | 'failed'
  | 'completed'
  | 'entered-in-error';

const SERVICE_REQUEST: Record<ReferralStatus, FhirRequestStatus> = {
  created: 'active',
  offered: 'active',
  booked: 'active',
  attended: 'active',
  reported: 'active',
  closed: 'completed',
  cancelled: 'revoked',
  expired: 'revoked', // the authorisation lapsed before it was used
};

const TASK: Record<ReferralStatus, FhirTaskStatus> = {
  created: 'requested',
  offered: 'received', // the network has it and is finding a slot
  booked: 'accepted', // a performer (the specialist) is set
  attended: 'in-progress',
  reported: 'in-progress', // the report awaits the referring doctor's acknowledgement
  closed: 'completed',
  cancelled: 'cancelled',
  expired: 'failed',
};

/** The referral as FHIR sees it: ServiceRequest.status, Task.status and Task.businessStatus (our step, breached when it is). */
export function fhirReferralStatus(status: ReferralStatus, breached: boolean) {
  return {
    serviceRequest: SERVICE_REQUEST[status],
    task: TASK[status],
    businessStatus: breached && !['closed', 'cancelled', 'expired'].includes(status) ? `${status}-breached` : status,
  };
}
