/**
 * The lab order's vocabulary, shared by every layer: statuses, the policy with production
 * defaults, the order as the process sees it, the messages it takes, turnaround deadlines and the
 * FHIR mappings (ServiceRequest, Specimen, DiagnosticReport, Observation). Pure: no I/O, no clock.
 */
import type { CatalogueTest, Flag } from './interpretation';
import type { ReferenceSex } from './patient';

export type LabPriority = 'routine' | 'urgent' | 'stat';
export const LAB_PRIORITIES = ['routine', 'urgent', 'stat'] as const;

/**
 * ordered → collected → received → resulted (preliminary values) → final → acknowledged → closed;
 * cancelled before collection, or when the specimen was rejected more often than the policy allows.
 */
export type LabOrderStatus = 'ordered' | 'collected' | 'received' | 'resulted' | 'final' | 'acknowledged' | 'closed' | 'cancelled';
export const LAB_ORDER_STATUSES: readonly LabOrderStatus[] = [
  'ordered',
  'collected',
  'received',
  'resulted',
  'final',
  'acknowledged',
  'closed',
  'cancelled',
];

export type RejectionReason = 'haemolysed' | 'clotted' | 'wrong-tube' | 'unlabelled';
export const REJECTION_REASONS = ['haemolysed', 'clotted', 'wrong-tube', 'unlabelled'] as const;

export type ResultStatus = 'preliminary' | 'final' | 'amended' | 'corrected';

/** Durations in seconds so tests can pass seconds; production defaults below. */
export interface LabOrderPolicy {
  /** Turnaround from order to final result, by priority. */
  statSeconds: number;
  urgentSeconds: number;
  /** Routine: the legal waiting time for diagnostics (14 days; see routineDeadline). */
  routineDays: number;
  /** Rejected specimens that send the order back to collection before it is cancelled. */
  maxRecollections: number;
  /** Critical result not acknowledged: the covering doctor is called after this (CLSI GP47 practice: ~15 min). */
  escalateCoveringSeconds: number;
  /** …and the head of department after this, before the hour GP47 allows. */
  escalateHeadSeconds: number;
  /** After acknowledgement the order stays open this long for amendments, then closes. */
  amendWindowSeconds: number;
  /** How long scoring may wait for the CDS worker before the card says it could not be scored. */
  cdsScheduleToCloseSeconds: number;
}

export const DEFAULT_LAB_ORDER_POLICY: LabOrderPolicy = Object.freeze({
  statSeconds: 3600,
  urgentSeconds: 4 * 3600,
  routineDays: 14,
  maxRecollections: 2,
  escalateCoveringSeconds: 15 * 60,
  escalateHeadSeconds: 45 * 60,
  amendWindowSeconds: 30 * 86_400,
  cdsScheduleToCloseSeconds: 7 * 86_400,
});

const DAY_MS = 86_400_000;

/**
 * The routine deadline in calendar days: the fallback for orders started without a deadline.
 * Orders get theirs from buildLabOrderInput (db/lab-order.ts), in the clinic's working days
 * (domain/calendar.ts), since date-holidays stays out of the workflow bundle.
 */
export function routineDeadline(orderedAt: string, days: number): string {
  return new Date(Date.parse(orderedAt) + days * DAY_MS).toISOString();
}

/** When the order must be final, from its priority and the policy. */
export function turnaroundDeadline(priority: LabPriority, orderedAt: string, policy: LabOrderPolicy): string {
  if (priority === 'stat') return new Date(Date.parse(orderedAt) + policy.statSeconds * 1000).toISOString();
  if (priority === 'urgent') return new Date(Date.parse(orderedAt) + policy.urgentSeconds * 1000).toISOString();
  return routineDeadline(orderedAt, policy.routineDays);
}

export const labOrderWorkflowId = (orderId: string) => `lab-order-${orderId}`;

export interface LabOrderInput {
  /** When the order must be final (routine: the clinic's working days), computed before the start; absent in orders started earlier. */
  deadlineAt?: string;
  orderId: string;
  patientId: string;
  clinicId: string;
  orderingPractitionerId: string;
  /** Who is called when the ordering doctor does not acknowledge a critical result (may acknowledge too). */
  coveringPractitionerId: string | null;
  headPractitionerId: string | null;
  priority: LabPriority;
  /** The doctor's clinical note (stored in Postgres; payloads are encrypted). */
  note: string | null;
  /** LOINC codes (panels expanded). */
  tests: string[];
  orderedAt: string;
  /** The catalogue rows of this order's tests: the results validator needs them without I/O. */
  catalogue: CatalogueTest[];
  patientSex: ReferenceSex | null;
  patientBirthDate: string | null;
  policy: LabOrderPolicy;
  /** The CDS worker's task queue; defaults to CDS_TASK_QUEUE. */
  cdsTaskQueue?: string;
}

export interface ResultEntry {
  loinc: string;
  /** Anything: the validator refuses what is not a finite number. */
  value: unknown;
  unit: string;
  /** FHIR Observation status as posted (HL7 OBX-11: F final, P preliminary, C corrected). */
  status?: 'preliminary' | 'final' | 'corrected';
}

export interface PostResultsRequest {
  results: ResultEntry[];
  by: string;
  source: 'json' | 'hl7v2';
}

/** One test's current value on the order. */
export interface CurrentResult {
  loinc: string;
  /** In the catalogue unit. */
  value: number;
  unit: string;
  reportedValue: number;
  reportedUnit: string;
  flag: Flag;
  status: ResultStatus;
  version: number;
  refLow: number | null;
  refHigh: number | null;
}

export interface PostResultsAnswer {
  status: LabOrderStatus;
  recorded: number;
  duplicates: number;
  results: CurrentResult[];
}

export interface ReadBack {
  loinc: string;
  value: number;
  unit: string;
}
export interface AcknowledgeRequest {
  practitionerId: string;
  readBack: ReadBack[];
}

export interface EscalationStep {
  step: 'ordering' | 'covering' | 'head';
  recipient: string | null;
  at: string;
}

export interface LabCdsView {
  round: number;
  cards: unknown[];
  storedAt: string;
}

export interface LabOrderState {
  status: LabOrderStatus;
  deadlineAt: string;
  overdue: boolean;
  specimen: { barcode: string; collectedBy: string; collectedAt: string } | null;
  rejections: Array<{ reason: RejectionReason; by: string; at: string }>;
  results: CurrentResult[];
  finalAt: string | null;
  /** Each final version of the order is one round: an amendment starts the next. */
  round: number;
  criticalPending: boolean;
  escalations: EscalationStep[];
  acknowledgedAt: string | null;
  cds: LabCdsView | null;
  cancelReason: string | null;
}

export interface CdsAwaitAnswer {
  status: 'ready' | 'pending';
  round: number;
  cards: unknown[];
}

/** FHIR ServiceRequest.status for an order. */
export function fhirServiceRequestStatus(s: LabOrderStatus): 'active' | 'completed' | 'revoked' {
  if (s === 'cancelled') return 'revoked';
  if (s === 'final' || s === 'acknowledged' || s === 'closed') return 'completed';
  return 'active';
}

/** FHIR Specimen.status. */
export function fhirSpecimenStatus(s: LabOrderStatus, lastRejected: boolean): 'available' | 'unavailable' | 'unsatisfactory' {
  if (lastRejected && s === 'ordered') return 'unsatisfactory';
  return s === 'ordered' || s === 'cancelled' ? 'unavailable' : 'available';
}

/** FHIR DiagnosticReport.status. */
export function fhirDiagnosticReportStatus(
  s: LabOrderStatus,
  amended: boolean,
): 'registered' | 'partial' | 'final' | 'amended' | 'cancelled' {
  if (s === 'cancelled') return 'cancelled';
  if (s === 'resulted') return 'partial';
  if (s === 'final' || s === 'acknowledged' || s === 'closed') return amended ? 'amended' : 'final';
  return 'registered';
}

const LOINC_SYSTEM = 'http://loinc.org';
const INTERPRETATION_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';

/** One result as a FHIR R4 Observation. */
export function fhirObservation(orderId: string, patientId: string, r: CurrentResult & { name: string; effective: string }) {
  return {
    resourceType: 'Observation' as const,
    id: `${orderId}-${r.loinc}-${r.version}`,
    status: r.status,
    basedOn: [{ reference: `ServiceRequest/${orderId}` }],
    subject: { reference: `Patient/${patientId}` },
    code: { coding: [{ system: LOINC_SYSTEM, code: r.loinc, display: r.name }] },
    effectiveDateTime: r.effective,
    valueQuantity: { value: r.value, unit: r.unit, system: 'http://unitsofmeasure.org', code: r.unit },
    interpretation: [{ coding: [{ system: INTERPRETATION_SYSTEM, code: r.flag }] }],
    referenceRange:
      r.refLow !== null || r.refHigh !== null
        ? [
            {
              ...(r.refLow !== null ? { low: { value: r.refLow, unit: r.unit } } : {}),
              ...(r.refHigh !== null ? { high: { value: r.refHigh, unit: r.unit } } : {}),
            },
          ]
        : [],
  };
}

/** The order as a FHIR R4 ServiceRequest. */
export function fhirServiceRequest(o: {
  id: string;
  patientId: string;
  practitionerId: string;
  status: LabOrderStatus;
  priority: LabPriority;
  tests: string[];
  orderedAt: string;
  note: string | null;
}) {
  return {
    resourceType: 'ServiceRequest' as const,
    id: o.id,
    status: fhirServiceRequestStatus(o.status),
    intent: 'order' as const,
    priority: o.priority,
    code: { coding: o.tests.map((code) => ({ system: LOINC_SYSTEM, code })) },
    subject: { reference: `Patient/${o.patientId}` },
    requester: { reference: `Practitioner/${o.practitionerId}` },
    authoredOn: o.orderedAt,
    ...(o.note ? { note: [{ text: o.note }] } : {}),
  };
}
