/**
 * The patient's record across every clinic: the kinds of item it holds, its opaque keyset cursor,
 * and its FHIR R4 searchset Bundle (Appointment, ServiceRequest, DiagnosticReport + Observation,
 * Communication for critical-value events, RiskAssessment for CDS, Condition for a visit's
 * diagnosis). Pure: no I/O, no clock.
 * Status maps are the ones already written down in domain/fhir.ts, referral.ts and lab-order.ts.
 */
import type {
  Appointment as FhirAppointment,
  Bundle,
  BundleEntry,
  Communication,
  Condition,
  DiagnosticReport,
  Observation,
  Resource,
  RiskAssessment,
  ServiceRequest,
} from '@medplum/fhirtypes';
import type { BookingStatus } from './booking';
import { fhirAppointmentStatus } from './fhir';
import type { Flag } from './interpretation';
import { fhirDiagnosticReportStatus, fhirObservation, type LabOrderStatus, type ResultStatus } from './lab-order';
import { fhirPriority, fhirReferralStatus, type ReferralStatus, type ReferralUrgency } from './referral';

export const RECORD_KINDS = ['appointment', 'referral', 'lab-report', 'critical-event', 'cds-assessment', 'diagnosis'] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];
/** The results a record shows: released ones only (never preliminary). */
export const RELEASED_RESULT_STATUSES: readonly ResultStatus[] = ['final', 'amended', 'corrected'];

export interface RecordResult {
  loinc: string;
  name: string;
  value: number;
  unit: string;
  flag: Flag;
  refLow: number | null;
  refHigh: number | null;
  status: ResultStatus;
  version: number;
  resultedAt: string;
}

export type RecordItem =
  | {
      kind: 'appointment';
      id: string;
      at: string;
      status: BookingStatus;
      clinicId: string;
      practitionerId: string;
      startsAt: string;
      endsAt: string;
    }
  | {
      kind: 'referral';
      id: string;
      at: string;
      status: ReferralStatus;
      breached: boolean;
      deadlineAt: string;
      clinicId: string;
      referringPractitionerId: string | null;
      specialty: string;
      urgency: ReferralUrgency;
      icd10: string | null;
      targetPractitionerId: string | null;
      appointmentId: string | null;
    }
  | {
      kind: 'lab-report';
      id: string;
      at: string;
      status: LabOrderStatus;
      clinicId: string;
      orderingPractitionerId: string;
      tests: string[];
      amended: boolean;
      results: RecordResult[];
    }
  | {
      kind: 'critical-event';
      id: string;
      at: string;
      event: 'notified' | 'acknowledged';
      labOrderId: string;
      clinicId: string;
      step: string | null;
      practitionerId: string | null;
      secondsFromFinal: number | null;
    }
  | {
      kind: 'cds-assessment';
      id: string;
      at: string;
      serviceId: string;
      modelId: string | null;
      modelVersion: string | null;
      score: number | null;
      band: string | null;
      labOrderId: string | null;
    }
  /** The doctor's final diagnosis of a visit; its id is the appointment's. */
  | {
      kind: 'diagnosis';
      id: string;
      at: string;
      code: string;
      title: string;
      appointmentId: string;
      clinicId: string;
      practitionerId: string;
    };

/** Where a page ended: the last item's (at, kind, id), at microsecond precision. */
export interface RecordCursor {
  at: string;
  kind: string;
  id: string;
}

export function encodeCursor(c: RecordCursor): string {
  return Buffer.from(JSON.stringify([c.at, c.kind, c.id]), 'utf8').toString('base64url');
}

/** The cursor back, or null when it is not one of ours. */
export function decodeCursor(raw: string): RecordCursor | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    if (!Array.isArray(v) || v.length !== 3 || !v.every((x) => typeof x === 'string')) return null;
    const [at, kind, id] = v as string[];
    if (Number.isNaN(Date.parse(at!)) || !(RECORD_KINDS as readonly string[]).includes(kind!) || !/^[A-Za-z0-9-]{1,64}$/.test(id!))
      return null;
    return { at: at!, kind: kind!, id: id! };
  } catch {
    return null;
  }
}

const INTERPRETATION_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';
const patientRef = (patientId: string) => ({ reference: `Patient/${patientId}` });

function appointmentResource(patientId: string, i: Extract<RecordItem, { kind: 'appointment' }>): FhirAppointment {
  return {
    resourceType: 'Appointment',
    id: i.id,
    status: fhirAppointmentStatus(i.status),
    start: i.startsAt,
    end: i.endsAt,
    participant: [
      { actor: { ...patientRef(patientId), type: 'Patient' }, status: 'accepted' },
      { actor: { reference: `Practitioner/${i.practitionerId}`, type: 'Practitioner' }, status: 'accepted' },
      { actor: { reference: `Location/${i.clinicId}`, type: 'Location' }, status: 'accepted' },
    ],
  };
}

function referralResource(patientId: string, i: Extract<RecordItem, { kind: 'referral' }>): ServiceRequest {
  const s = fhirReferralStatus(i.status, i.breached);
  return {
    resourceType: 'ServiceRequest',
    id: i.id,
    status: s.serviceRequest,
    intent: 'order',
    priority: fhirPriority(i.urgency),
    category: [{ coding: [{ system: 'http://snomed.info/sct', code: '3457005', display: 'Patient referral' }] }],
    code: { text: i.specialty },
    subject: patientRef(patientId),
    authoredOn: i.at,
    ...(i.referringPractitionerId ? { requester: { reference: `Practitioner/${i.referringPractitionerId}` } } : {}),
    ...(i.targetPractitionerId ? { performer: [{ reference: `Practitioner/${i.targetPractitionerId}` }] } : {}),
    ...(i.icd10 ? { reasonCode: [{ coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: i.icd10 }] }] } : {}),
    // The deadline the process keeps, and the step it is at (breached when it is).
    occurrencePeriod: { end: i.deadlineAt },
    extension: [{ url: 'urn:clinical-engine:referral-business-status', valueCode: s.businessStatus }],
  };
}

function labResources(patientId: string, i: Extract<RecordItem, { kind: 'lab-report' }>): Resource[] {
  const observations: Observation[] = i.results.map((r) => ({
    ...fhirObservation(i.id, patientId, { ...r, reportedValue: r.value, reportedUnit: r.unit, effective: r.resultedAt }),
    interpretation: [{ coding: [{ system: INTERPRETATION_SYSTEM, code: r.flag }] }],
  }));
  const report: DiagnosticReport = {
    resourceType: 'DiagnosticReport',
    id: i.id,
    status: fhirDiagnosticReportStatus(i.status, i.amended),
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: 'LAB' }] }],
    code: { coding: i.tests.map((code) => ({ system: 'http://loinc.org', code })) },
    subject: patientRef(patientId),
    basedOn: [{ reference: `ServiceRequest/${i.id}` }],
    issued: i.at,
    result: observations.map((o) => ({ reference: `Observation/${o.id}` })),
  };
  return [report, ...observations];
}

function criticalResource(patientId: string, i: Extract<RecordItem, { kind: 'critical-event' }>): Communication {
  return {
    resourceType: 'Communication',
    id: i.id,
    status: 'completed',
    subject: patientRef(patientId),
    sent: i.at,
    category: [
      {
        coding: [
          {
            system: 'urn:clinical-engine:critical-value',
            code: i.event === 'notified' ? `notified-${i.step ?? 'ordering'}` : 'acknowledged',
          },
        ],
      },
    ],
    about: [{ reference: `DiagnosticReport/${i.labOrderId}` }],
    ...(i.practitionerId ? { recipient: [{ reference: `Practitioner/${i.practitionerId}` }] } : {}),
    priority: 'stat',
  };
}

function cdsResource(patientId: string, i: Extract<RecordItem, { kind: 'cds-assessment' }>): RiskAssessment {
  return {
    resourceType: 'RiskAssessment',
    id: i.id,
    status: 'final',
    subject: patientRef(patientId),
    occurrenceDateTime: i.at,
    method: {
      coding: [
        {
          system: 'urn:clinical-engine:cds-service',
          code: i.serviceId,
          ...(i.modelId ? { display: `${i.modelId}@${i.modelVersion ?? ''}` } : {}),
        },
      ],
    },
    ...(i.labOrderId ? { basis: [{ reference: `DiagnosticReport/${i.labOrderId}` }] } : {}),
    prediction: [
      {
        ...(i.score !== null ? { probabilityDecimal: i.score } : {}),
        ...(i.band
          ? {
              qualitativeRisk: {
                coding: [{ system: 'http://terminology.hl7.org/CodeSystem/risk-probability', code: i.band }],
                text: i.band,
              },
            }
          : {}),
      },
    ],
  };
}

/**
 * The visit's diagnosis as a FHIR Condition: category encounter-diagnosis, the ICD-10 code with its
 * Russian title, recorded by the practitioner; the visit is referenced as its Appointment (the
 * engine keeps no Encounter resource).
 */
function diagnosisResource(patientId: string, i: Extract<RecordItem, { kind: 'diagnosis' }>): Condition {
  return {
    resourceType: 'Condition',
    id: `visit-${i.id}`,
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
    verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
    category: [
      {
        coding: [
          {
            system: 'http://terminology.hl7.org/CodeSystem/condition-category',
            code: 'encounter-diagnosis',
            display: 'Encounter Diagnosis',
          },
        ],
      },
    ],
    code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: i.code, display: i.title }], text: i.title },
    subject: patientRef(patientId),
    recordedDate: i.at,
    recorder: { reference: `Practitioner/${i.practitionerId}` },
    evidence: [{ detail: [{ reference: `Appointment/${i.appointmentId}` }] }],
  };
}

/** One record item as FHIR resources (a lab report is its DiagnosticReport and its Observations). */
export function recordItemResources(patientId: string, item: RecordItem): Resource[] {
  switch (item.kind) {
    case 'appointment':
      return [appointmentResource(patientId, item)];
    case 'referral':
      return [referralResource(patientId, item)];
    case 'lab-report':
      return labResources(patientId, item);
    case 'critical-event':
      return [criticalResource(patientId, item)];
    case 'cds-assessment':
      return [cdsResource(patientId, item)];
    case 'diagnosis':
      return [diagnosisResource(patientId, item)];
  }
}

/** The page as a FHIR R4 searchset Bundle; `next` is the link to the following page, if any. */
export function recordBundle(patientId: string, items: RecordItem[], links: { self: string; next?: string }): Bundle {
  const entry: BundleEntry[] = items.flatMap((item) =>
    recordItemResources(patientId, item).map((resource) => ({
      resource,
      search: { mode: 'match' as const },
    })),
  );
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    link: [{ relation: 'self', url: links.self }, ...(links.next ? [{ relation: 'next', url: links.next }] : [])],
    entry,
  };
}
