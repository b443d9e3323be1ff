/**
 * The role matrix: every route of the OpenAPI document, called with every role and with every kind
 * of bad token. One row per route (method + path) says who may call it and what an allowed call
 * answers (`ok`: the exact status, and the code where the fixture's state answers a refusal, e.g. a
 * visit without a process); a route without a row, or a row without a route, fails the test. Bad
 * tokens must get 401, other roles 403, and on scoped routes a token of an allowed role for another
 * patient, practitioner or clinic must get 403. Further cells: the care relationship after a
 * cancelled hold and after its window closed (403 no_care_relationship), and every write route
 * repeated, with the same Idempotency-Key and body, by someone who may not make it (refused, or a
 * fresh answer of their own, never the first caller's).
 */
import { randomUUID } from 'node:crypto';
import { sign } from 'hono/jwt';
import { ROLES, type Caller, type Role } from '../api/auth';
import { CARE_POLICY } from '../domain/care-relationship';
import { daysFromNow, makeBookedRow, makeClinic, makePatient, makeSlot, type TestClinic } from './fixtures';
import { jsonRequest, startTestEngine, type TestEngine } from './helpers';

type Fixture = 'patient' | 'practitioner' | 'clinic' | 'appointment' | 'referral' | 'labOrder' | 'cdsService';
/** What an allowed call answers: a status, or a status and its error code. */
type Ok = number | readonly [number, string];
/** Which "other" token a scoped route must refuse: a token of an allowed role, for someone else. */
type Scope = 'otherPatient' | 'otherPractitioner' | 'otherLabClinic' | 'otherRegistrarClinic';

interface Row {
  /** Roles let through; 'public' for routes without a token. */
  allow: readonly Role[] | 'public';
  /** Path parameters filled from fixtures; others get a valid but unknown uuid. */
  params?: Partial<Record<string, Fixture>>;
  /** A body valid for the route (needed where the scope check runs after validation); default {}. */
  body?: (f: Fixtures) => unknown | Promise<unknown>;
  scoped?: readonly Scope[];
  /** A query string the route needs before its scope check runs. */
  query?: string | ((f: Fixtures) => string);
  /** The exact answer to an allowed role (per role where they differ). */
  ok: Ok | Partial<Record<Role, Ok>>;
  /** Gated by the care relationship: refused after a cancelled hold and after the window closed. */
  care?: true;
}

const STAFF = ['registrar', 'doctor', 'admin'] as const;
const OPS = ['ops', 'admin'] as const;
const ANYONE = ['patient', 'registrar', 'doctor', 'admin'] as const;
const BOOKERS = ['patient', 'registrar', 'admin'] as const;
const DESK = ['registrar', 'admin'] as const;
const CLINICIANS = ['doctor', 'admin'] as const;
const LAB = ['lab', 'admin'] as const;
const ADMIN = ['admin'] as const;
const ONBOARDING_REPORTERS = ['ops', 'admin', 'registrar', 'doctor'] as const;

/** THE TABLE. Edit here when a route or a rule changes. */
/** The fixture's rows have no running process and the wrong state for the step: the handler's own exact refusal. */
const STATE = [409, 'invalid_state'] as const;
/** Onboarding and rollout steps called without their bodies: validated before anything else. */
const INVALID = [400, 'validation_failed'] as const;
const MATRIX: Record<string, Row> = {
  'GET /health': { allow: 'public', ok: 200 },
  'POST /ops/self-test': { allow: OPS, ok: 200 },
  'GET /ops/summary': { allow: OPS, ok: 200 },
  'GET /ops/critical-results': { allow: OPS, ok: 200 },
  'GET /ops/breached-referrals': { allow: OPS, ok: 200 },
  'GET /clinics/{id}/appointments': {
    allow: DESK,
    ok: 200,
    params: { id: 'clinic' },
    scoped: ['otherRegistrarClinic'],
    query: '?date=2030-01-02',
  },
  'GET /ops/lab-turnaround': {
    allow: OPS,
    ok: 200,
    query: () => `?from=${daysFromNow(-7).toISOString()}&to=${daysFromNow(0).toISOString()}`,
  },
  'POST /codec/encode': { allow: OPS, ok: 200, body: () => ({ payloads: [] }) },
  'POST /codec/decode': { allow: OPS, ok: 200, body: () => ({ payloads: [] }) },
  'GET /metrics': { allow: OPS, ok: 200 },
  'GET /ops/audit': { allow: OPS, ok: 200, query: (f) => `?patientId=${f.patient}` },
  'GET /ops/break-glass': { allow: OPS, ok: 200 },
  'GET /cds-services': { allow: CLINICIANS, ok: 200 },
  'POST /cds-services/{id}': { allow: CLINICIANS, ok: 200, params: { id: 'cdsService' }, body: () => CDS_CALL },
  'POST /diagnosis-suggestions': { allow: CLINICIANS, ok: 200, body: () => ({ text: 'кашель и насморк третий день' }) },

  'GET /slots': { allow: ANYONE, ok: 200, query: (f) => `?from=${day(1)}&to=${day(5)}&clinicId=${f.clinic}` },
  'POST /appointments': {
    allow: BOOKERS,
    ok: 201,
    scoped: ['otherPatient', 'otherRegistrarClinic'],
    body: async (f) => ({ slotId: (await makeSlot(engine.db, f.testClinic, nextMatrixSlotStart())).id, patientId: f.patient }),
  },
  'POST /appointments/{id}/confirm': {
    allow: BOOKERS,
    ok: 200,
    params: { id: 'appointment' },
    scoped: ['otherPatient', 'otherRegistrarClinic'],
  },
  'POST /appointments/{id}/cancel': {
    allow: BOOKERS,
    ok: STATE,
    params: { id: 'appointment' },
    scoped: ['otherPatient', 'otherRegistrarClinic'],
    body: () => ({ reason: 'matrix' }),
  },
  'POST /appointments/{id}/reschedule': {
    allow: BOOKERS,
    ok: STATE,
    params: { id: 'appointment' },
    scoped: ['otherPatient'],
    body: (f) => ({ slotId: f.slotId }),
  },
  'POST /appointments/{id}/check-in': {
    allow: DESK,
    ok: [409, 'invalid_state'],
    params: { id: 'appointment' },
    scoped: ['otherRegistrarClinic'],
  },
  'POST /appointments/{id}/complete': {
    allow: CLINICIANS,
    ok: [409, 'invalid_state'],
    params: { id: 'appointment' },
    scoped: ['otherPractitioner'],
  },
  'GET /appointments/{id}': { allow: ANYONE, ok: 200, params: { id: 'appointment' }, scoped: ['otherPatient', 'otherRegistrarClinic'] },
  'GET /patients/{id}/appointments': {
    allow: ANYONE,
    ok: 200,
    params: { id: 'patient' },
    scoped: ['otherPatient', 'otherRegistrarClinic'],
    care: true,
  },
  'GET /practitioners/{id}/day': {
    allow: STAFF,
    ok: 200,
    params: { id: 'practitioner' },
    scoped: ['otherPractitioner', 'otherRegistrarClinic'],
    query: '?date=2030-01-02',
  },
  'POST /practitioners/{id}/leave': {
    allow: DESK,
    ok: 201,
    params: { id: 'practitioner' },
    scoped: ['otherRegistrarClinic'],
    body: () => leaveDays(),
  },
  'POST /waitlist': {
    allow: BOOKERS,
    ok: 201,
    scoped: ['otherPatient'],
    body: (f) => ({ patientId: f.patient, specialty: f.specialty, wantedBefore: new Date(Date.now() + 86400_000).toISOString() }),
  },

  'GET /clinics': { allow: OPS, ok: 200 },
  'POST /onboarding/{clinicId}/start': { allow: ADMIN, ok: 404 },
  'GET /onboarding/{clinicId}': { allow: OPS, ok: 404 },
  'POST /onboarding/{clinicId}/tasks/{taskId}/complete': { allow: OPS, ok: INVALID },
  'POST /onboarding/{clinicId}/blockers': { allow: OPS, ok: INVALID },
  'POST /onboarding/{clinicId}/blockers/{id}/resolve': { allow: OPS, ok: 404 },
  'POST /onboarding/{clinicId}/training': { allow: OPS, ok: INVALID },
  'POST /onboarding/{clinicId}/equipment/{itemId}': { allow: OPS, ok: INVALID },
  'POST /onboarding/{clinicId}/incidents': {
    allow: ONBOARDING_REPORTERS,
    ok: [404, 'not_found'],
    params: { clinicId: 'clinic' },
    scoped: ['otherPractitioner', 'otherRegistrarClinic'],
    body: () => ({ blocking: true, description: 'matrix' }),
  },
  'POST /onboarding/{clinicId}/incidents/{id}/resolve': { allow: OPS, ok: 404 },
  'POST /onboarding/{clinicId}/decision': { allow: ADMIN, ok: INVALID },
  'POST /rollout-programs': { allow: ADMIN, ok: 201, body: () => ({ name: 'matrix', pilotClinicIds: [], clinicIds: [] }) },
  'GET /rollout-programs/{id}': { allow: OPS, ok: 404 },
  'POST /rollout-programs/{id}/pause': { allow: OPS, ok: 404 },
  'POST /rollout-programs/{id}/resume': { allow: OPS, ok: 404 },
  'POST /rollout-programs/{id}/clinics': { allow: ADMIN, ok: INVALID },

  'POST /referrals': {
    allow: STAFF,
    ok: 201,
    scoped: ['otherRegistrarClinic'],
    body: (f) => ({
      patientId: f.patient,
      referringPractitionerId: f.practitioner,
      specialty: f.specialty,
      reason: 'matrix',
      icd10: 'I10',
    }),
  },
  'GET /referrals': { allow: STAFF, ok: 200 },
  'GET /referrals/queue': { allow: STAFF, ok: 200, query: (f) => `?clinicId=${f.clinic}` },
  'GET /referrals/{id}': { allow: ANYONE, ok: 200, params: { id: 'referral' }, scoped: ['otherPatient', 'otherRegistrarClinic'] },
  'POST /referrals/{id}/book': {
    allow: BOOKERS,
    ok: STATE,
    params: { id: 'referral' },
    scoped: ['otherPatient', 'otherRegistrarClinic'],
    body: (f) => ({ slotId: f.slotId }),
  },
  'POST /referrals/{id}/report': {
    allow: ['doctor'],
    ok: [403, 'wrong_practitioner'],
    params: { id: 'referral' },
    scoped: ['otherPractitioner'],
    body: (f) => REPORT(f),
  },
  'POST /referrals/{id}/acknowledge': { allow: ['doctor'], ok: STATE, params: { id: 'referral' }, scoped: ['otherPractitioner'] },
  'POST /referrals/{id}/cancel': {
    allow: ANYONE,
    ok: STATE,
    params: { id: 'referral' },
    scoped: ['otherPatient', 'otherPractitioner'],
    body: () => ({ reason: 'matrix' }),
  },
  'GET /patients/{id}/referrals': { allow: ANYONE, ok: 200, params: { id: 'patient' }, scoped: ['otherPatient'], care: true },

  'POST /lab-orders': {
    allow: CLINICIANS,
    ok: { doctor: 201, admin: [403, 'forbidden'] },
    body: (f) => ({ patientId: f.patient, tests: ['2345-7'] }),
  },
  'GET /lab-orders/{id}': {
    allow: ['doctor', 'lab', 'admin', 'ops'],
    ok: 200,
    params: { id: 'labOrder' },
    scoped: ['otherPractitioner', 'otherLabClinic'],
  },
  'GET /lab-orders/{id}/events': {
    allow: ['doctor', 'lab', 'admin', 'ops'],
    ok: 200,
    params: { id: 'labOrder' },
    scoped: ['otherPractitioner', 'otherLabClinic'],
  },
  'POST /lab-orders/{id}/cancel': {
    allow: CLINICIANS,
    ok: STATE,
    params: { id: 'labOrder' },
    scoped: ['otherPractitioner'],
    body: () => ({ reason: 'matrix' }),
  },
  'POST /lab-orders/{id}/acknowledge': {
    allow: CLINICIANS,
    ok: STATE,
    params: { id: 'labOrder' },
    scoped: ['otherPractitioner'],
    body: () => ({ readBack: [] }),
  },
  'GET /lab-orders/{id}/cds': { allow: CLINICIANS, ok: 200, params: { id: 'labOrder' }, scoped: ['otherPractitioner'], query: '?wait=0s' },
  'GET /lab/worklist': { allow: LAB, ok: 200, query: (f) => `?clinicId=${f.clinic}` },
  'POST /lab-orders/{id}/specimen/collect': {
    allow: LAB,
    ok: STATE,
    params: { id: 'labOrder' },
    scoped: ['otherLabClinic'],
    body: () => ({ barcode: 'MATRIX-1' }),
  },
  'POST /lab-orders/{id}/specimen/receive': { allow: LAB, ok: STATE, params: { id: 'labOrder' }, scoped: ['otherLabClinic'] },
  'POST /lab-orders/{id}/specimen/reject': {
    allow: LAB,
    ok: STATE,
    params: { id: 'labOrder' },
    scoped: ['otherLabClinic'],
    body: () => ({ reason: 'haemolysed' }),
  },
  'POST /lab-orders/{id}/results': {
    allow: LAB,
    ok: STATE,
    params: { id: 'labOrder' },
    scoped: ['otherLabClinic'],
    body: () => ({ results: [{ loinc: '2345-7', value: 5, unit: 'mmol/L' }] }),
  },
  'POST /lab-results/hl7v2': { allow: LAB, ok: [415, 'unsupported_media_type'] },
  'GET /doctors/me/lab-inbox': { allow: ['doctor'], ok: 200 },
  'GET /patients/{id}/record': {
    allow: ['patient', 'registrar', 'doctor', 'admin'],
    ok: 200,
    params: { id: 'patient' },
    scoped: ['otherPatient', 'otherPractitioner', 'otherRegistrarClinic'],
    care: true,
  },
  'GET /patients/{id}/record/access-log': {
    allow: ['patient', 'ops', 'admin'],
    ok: 200,
    params: { id: 'patient' },
    scoped: ['otherPatient'],
  },
  'GET /patients/{id}/lab-results': { allow: ['patient', 'doctor', 'admin'], ok: 200, params: { id: 'patient' }, scoped: ['otherPatient'] },
  'POST /patients/{id}/vitals': { allow: CLINICIANS, ok: 201, params: { id: 'patient' }, body: () => ({ weight: 80, height: 180 }) },

  // Admin policies: bodies scoped to the fixtures' clinic (or far in the future), so an allowed call changes nothing for other tests.
  'GET /rollout-programs': { allow: OPS, ok: 200 },
  'GET /admin/policies/referral-waiting-times': { allow: ADMIN, ok: 200 },
  'POST /admin/policies/referral-waiting-times': {
    allow: ADMIN,
    ok: 201,
    body: (x) => ({ clinicId: x.clinic, kind: 'specialist', urgency: 'routine', wait: { workingDays: 14 }, effectiveFrom: farFuture() }),
  },
  'GET /admin/policies/lab-escalation': { allow: ADMIN, ok: 200 },
  'POST /admin/policies/lab-escalation': {
    allow: ADMIN,
    ok: 201,
    body: (x) => ({ clinicId: x.clinic, escalateCoveringSeconds: 900, escalateHeadSeconds: 2700, effectiveFrom: farFuture() }),
  },
  'GET /admin/policies/critical-ranges': { allow: ADMIN, ok: 200 },
  'POST /admin/policies/critical-ranges': {
    allow: ADMIN,
    ok: 201,
    body: () => ({ loinc: '2823-3', criticalLow: 2.5, criticalHigh: 6.5, effectiveFrom: farFuture() }),
  },
  'GET /admin/clinics/{id}/calendar': { allow: ADMIN, ok: 200, params: { id: 'clinic' } },
  'PUT /admin/clinics/{id}/calendar': { allow: ADMIN, ok: 200, params: { id: 'clinic' }, body: () => ({ country: 'RU' }) },
  // The {date} parameter gets the matrix's unknown uuid: refused as no date before anything is written.
  'POST /admin/clinics/{id}/closures/{date}': {
    allow: ADMIN,
    ok: [422, 'invalid_date'],
    params: { id: 'clinic' },
    body: () => ({ reason: 'matrix' }),
  },
  'DELETE /admin/clinics/{id}/closures/{date}': { allow: ADMIN, ok: [422, 'invalid_date'], params: { id: 'clinic' } },
  'GET /me': { allow: ROLES, ok: 200 },
  'GET /patients': { allow: STAFF, ok: 200, query: '?name=matrix' },
  'GET /lab/critical-results': { allow: LAB, ok: 200 },
  'GET /lab-messages/unmatched': { allow: LAB, ok: 200 },
  'POST /lab-messages/{id}/attach': { allow: LAB, ok: 404, body: (f) => ({ orderId: f.labOrder }) },
  'POST /lab-messages/{id}/reject': { allow: LAB, ok: 404, body: () => ({ reason: 'duplicate' }) },
  'GET /lab-messages/resolutions': { allow: OPS, ok: 200 },
  // Messages (api/notify.ts, api/notify-ops.ts).
  'GET /me/contacts': { allow: ['patient', 'doctor'], ok: 200 },
  'PUT /me/contacts': {
    allow: ['patient', 'doctor'],
    ok: 200,
    body: () => ({ points: [{ channel: 'app', address: null, consent: true }], preferred: 'app' }),
  },
  'GET /me/inbox': { allow: ['patient', 'doctor'], ok: 200 },
  'GET /appointments/{id}/deliveries': {
    allow: ANYONE,
    ok: 200,
    params: { id: 'appointment' },
    scoped: ['otherPatient', 'otherRegistrarClinic'],
  },
  'GET /lab-orders/{id}/deliveries': { allow: ANYONE, ok: 200, params: { id: 'labOrder' }, scoped: ['otherPatient'] },
  'GET /referrals/{id}/deliveries': { allow: ANYONE, ok: 200, params: { id: 'referral' }, scoped: ['otherPatient'] },
  // No callback token configured in the matrix's engine: every report is refused.
  'POST /notifications/sms-status': { allow: 'public', ok: [401, 'unauthenticated'] },
  'GET /ops/notifications/failures': { allow: OPS, ok: 200 },
  'GET /ops/notifications/unreachable': { allow: OPS, ok: 200 },
  'GET /ops/on-call': { allow: OPS, ok: 200, query: (f) => `?clinicId=${f.clinic}` },
  'POST /ops/on-call': {
    allow: OPS,
    ok: 201,
    body: (x) => ({
      clinicId: x.clinic,
      department: '*',
      role: 'covering',
      practitionerId: x.practitioner,
      startsAt: '2099-01-01T00:00:00Z',
      endsAt: '2099-01-02T00:00:00Z',
    }),
  },
  'DELETE /ops/on-call/{id}': { allow: OPS, ok: [404, 'roster_entry_not_found'] },
};

/** Each booking cell's own slot start (a random pick collided): one hour apart, 08:00–15:00, from two days ahead. */
let matrixSlots = 0;
// From day 10 on the hour: clear of the fixtures' slots, which sit 2 and 3 days from now at the clock time the run began.
const nextMatrixSlotStart = () => {
  const n = matrixSlots++;
  return daysFromNow(10 + Math.floor(n / 8), 8 + (n % 8));
};
/** A version far in the future (unique per call), so the matrix's policy writes are never in force for other tests. */
const farFuture = () => new Date(Date.UTC(2099, 0, 1) + Math.floor(Math.random() * 1e9)).toISOString();
const day = (n: number) => daysFromNow(n).toISOString().slice(0, 10);
let leaveN = 0;
/** A day of leave of its own per call (2031 on), so no two calls ask for the same day. */
const leaveDays = () => {
  const d = new Date(Date.UTC(2031, 0, 1) + leaveN++ * 86_400_000).toISOString().slice(0, 10);
  return { startsOn: d, endsOn: d, reason: 'matrix' };
};
const REPORT = (f: Fixtures) => ({ patientId: f.patient, conclusion: 'matrix', icd10: ['I10'], recommendations: 'none' });
const CDS_CALL = {
  hook: 'patient-view',
  hookInstance: '7b0c6a4e-4b7e-4c3e-9a57-3d1b2f1e0a11',
  context: { userId: 'Practitioner/matrix', patientId: 'ehr-matrix-1' },
  prefetch: { patient: { resourceType: 'Patient', id: 'ehr-matrix-1', gender: 'male', birthDate: '1960-01-01' }, labs: null, vitals: null },
};

interface Fixtures {
  patient: string;
  practitioner: string;
  clinic: string;
  appointment: string;
  referral: string;
  labOrder: string;
  slotId: string;
  specialty: string;
  cdsService: string;
  testClinic: TestClinic;
}

let engine: TestEngine;
let f: Fixtures;
let other: { clinic: TestClinic; patient: string };
beforeAll(async () => {
  engine = await startTestEngine({ configOverrides: { CDS_DIAGNOSIS_SUGGESTIONS: 'on' } });
  // Room for the matrix's bookings of one patient (each allowed role books a fresh slot).
  const clinic = await makeClinic(engine.db, { policy: { maxActivePerSpecialty: 100 } });
  other = { clinic: await makeClinic(engine.db), patient: await makePatient(engine.db) };
  const patient = await makePatient(engine.db);
  const slot = await makeSlot(engine.db, clinic, 2 * 24 * 3600);
  const apptSlot = await makeSlot(engine.db, clinic, 3 * 24 * 3600);
  const appointment = randomUUID();
  // Rows without running processes: an action reaches its handler and then finds no process (404/409).
  await engine.db
    .insertInto('appointments')
    .values({
      id: appointment,
      slot_id: apptSlot.id,
      patient_id: patient,
      practitioner_id: clinic.practitionerId,
      clinic_id: clinic.clinicId,
      starts_at: apptSlot.startsAt,
      ends_at: apptSlot.endsAt,
      status: 'booked',
      hold_expires_at: null,
      workflow_id: `booking-matrix-${appointment}`,
      booked_by: 'matrix',
      cancel_reason: null,
    })
    .execute();
  const referral = randomUUID();
  await engine.db
    .insertInto('referrals')
    .values({
      id: referral,
      patient_id: patient,
      clinic_id: clinic.clinicId,
      referring_practitioner_id: clinic.practitionerId,
      specialty: clinic.specialty,
      priority: 'routine',
      status: 'created',
      deadline_at: new Date(Date.now() + 7 * 86400_000),
      appointment_id: null,
      report_received_at: null,
      workflow_id: `referral-matrix-${referral}`,
      created_by: 'matrix',
      icd10: 'I10',
      reason: 'matrix',
      target_practitioner_id: null,
      target_test: null,
      valid_until: new Date(Date.now() + 30 * 86400_000),
      booked_at: null,
      acknowledged_at: null,
      acknowledged_by: null,
      cancel_reason: null,
      closed_at: null,
    })
    .execute();
  const labOrder = randomUUID();
  await engine.db
    .insertInto('lab_orders')
    .values({
      id: labOrder,
      patient_id: patient,
      clinic_id: clinic.clinicId,
      ordering_practitioner_id: clinic.practitionerId,
      tests: ['2345-7'],
      priority: 'routine',
      status: 'ordered',
      workflow_id: `lab-order-matrix-${labOrder}`,
      clinical_note: null,
      created_by: 'matrix',
      deadline_at: null,
      barcode: null,
      collected_by: null,
      collected_at: null,
      received_at: null,
      resulted_at: null,
      final_at: null,
      acknowledged_at: null,
      acknowledged_by: null,
      ack_seconds: null,
      cancelled_at: null,
      cancel_reason: null,
    })
    .execute();
  f = {
    patient,
    practitioner: clinic.practitionerId,
    clinic: clinic.clinicId,
    appointment,
    referral,
    labOrder,
    slotId: slot.id,
    specialty: clinic.specialty,
    cdsService: 'diabetes-progression',
    testClinic: clinic,
  };
}, 120_000);
afterAll(async () => {
  await engine?.stop();
});

/** Each role's token, bound to the fixtures' patient, practitioner and clinic. */
const roleCaller = (role: Role): Caller => ({
  id: `matrix-${role}`,
  role,
  patientId: role === 'patient' ? f.patient : undefined,
  practitionerId: role === 'doctor' ? f.practitioner : undefined,
  clinicId: ['lab', 'registrar'].includes(role) ? f.clinic : undefined,
});
const OTHER: Record<Scope, () => Caller> = {
  otherPatient: () => ({ id: 'matrix-other-patient', role: 'patient', patientId: other.patient }),
  otherPractitioner: () => ({ id: 'matrix-other-doctor', role: 'doctor', practitionerId: other.clinic.practitionerId }),
  otherLabClinic: () => ({ id: 'matrix-other-lab', role: 'lab', clinicId: other.clinic.clinicId }),
  // For clinic-scoped registrars: a registrar of another clinic (add it to a row's `scoped`).
  otherRegistrarClinic: () => ({ id: 'matrix-other-registrar', role: 'registrar', clinicId: other.clinic.clinicId }),
};

const now = () => Math.floor(Date.now() / 1000);
const BAD_TOKENS: Record<string, () => Promise<string | undefined>> = {
  'no token': async () => undefined,
  'malformed token': async () => 'not.a.jwt',
  'expired token': () =>
    sign({ sub: 'matrix-admin', role: 'admin', iat: now() - 7200, exp: now() - 3600 }, engine.config.AUTH_SECRET, 'HS256'),
  'other secret': () =>
    sign({ sub: 'matrix-admin', role: 'admin', iat: now(), exp: now() + 3600 }, 'another-secret-another-secret-another-secret', 'HS256'),
  'no exp': () => sign({ sub: 'matrix-admin', role: 'admin', iat: now() }, engine.config.AUTH_SECRET, 'HS256'),
};

async function routesOfDocument(): Promise<string[]> {
  const doc = (await (await engine.app.request('/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
  return Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
}

interface Answer {
  status: number;
  code?: string;
  text: string;
}

async function request(
  route: string,
  row: Row,
  token: string | undefined,
  key = `matrix-${randomUUID()}`,
  fx: Fixtures = f,
  body?: unknown,
): Promise<Answer> {
  const [method, template] = route.split(' ') as [string, string];
  const path = template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const fixture = row.params?.[name];
    return fixture ? (fx[fixture] as string) : randomUUID();
  });
  const url = path + (typeof row.query === 'function' ? row.query(fx) : (row.query ?? ''));
  const init = method === 'GET' ? jsonRequest(method, token) : jsonRequest(method, token, body ?? (row.body ? await row.body(fx) : {}));
  (init.headers as Record<string, string>)['idempotency-key'] = key;
  const res = await engine.app.request(url, init);
  const text = await res.text();
  let code: string | undefined;
  try {
    code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
  } catch {
    code = undefined;
  }
  return { status: res.status, code, text };
}
const call = async (route: string, row: Row, token: string | undefined) => (await request(route, row, token)).status;

const okFor = (row: Row, role: Role): Ok =>
  typeof row.ok === 'object' && !Array.isArray(row.ok) ? (row.ok as Partial<Record<Role, Ok>>)[role]! : (row.ok as Ok);
const matches = (a: Answer, ok: Ok) => (typeof ok === 'number' ? a.status === ok : a.status === ok[0] && a.code === ok[1]);
const show = (ok: Ok) => (typeof ok === 'number' ? String(ok) : `${ok[0]} ${ok[1]}`);

test('every route of the OpenAPI document has a row, and every row a route', async () => {
  const routes = await routesOfDocument();
  expect(routes.filter((r) => !MATRIX[r])).toEqual([]);
  expect(Object.keys(MATRIX).filter((r) => !routes.includes(r))).toEqual([]);
});

test('the matrix: every route × (6 roles + 5 bad tokens + other patient/practitioner/clinic where scoped)', async () => {
  const routes = (await routesOfDocument()).filter((r) => MATRIX[r]);
  const wrong: string[] = [];
  let cells = 0;
  for (const route of routes) {
    const row = MATRIX[route]!;
    for (const role of ROLES) {
      const answer = await request(route, row, await engine.token(role, roleCaller(role)));
      const allowed = row.allow === 'public' || row.allow.includes(role);
      cells++;
      if (allowed && !matches(answer, okFor(row, role)))
        wrong.push(`${route} as ${role}: ${answer.status} ${answer.code ?? ''}, expected ${show(okFor(row, role))}`);
      if (!allowed && answer.status !== 403) wrong.push(`${route} as ${role}: ${answer.status}, expected 403`);
    }
    for (const [kind, token] of Object.entries(BAD_TOKENS)) {
      const answer = await request(route, row, await token());
      cells++;
      if (row.allow === 'public' ? !matches(answer, okFor(row, 'admin')) : answer.status !== 401)
        wrong.push(`${route} with ${kind}: ${answer.status}, expected ${row.allow === 'public' ? 'allowed' : 401}`);
    }
    for (const scope of row.scoped ?? []) {
      const caller = OTHER[scope]();
      const status = await call(route, row, await engine.token(caller.role, caller));
      cells++;
      if (status !== 403) wrong.push(`${route} as ${scope}: ${status}, expected 403`);
    }
  }
  // The matrix's size, for the closing note.
  console.log(
    `access matrix: ${routes.length} routes × ${ROLES.length + Object.keys(BAD_TOKENS).length} token kinds (+ scoped) = ${cells} cells`,
  );
  expect(wrong).toEqual([]);
  expect(cells).toBeGreaterThanOrEqual(routes.length * 11);
}, 600_000);

/**
 * A patient whose only ties to a doctor and a clinic are a cancelled hold, or a visit whose window
 * closed (it ended CARE_POLICY.visitAfterDays + 1 days ago): neither opens the record.
 */
test('after a cancelled hold and after the window closed, the care-gated routes refuse the doctor and the registrar', async () => {
  const clinic = await makeClinic(engine.db);
  const cancelledHold = await makePatient(engine.db);
  const lapsed = await makePatient(engine.db);
  const lapsedHold = await makePatient(engine.db);
  const visit = async (patientId: string, status: 'cancelled' | 'fulfilled' | 'held', startsAt: Date) => {
    const slot = await makeSlot(engine.db, clinic, startsAt);
    const id = randomUUID();
    await makeBookedRow(engine.db, clinic, slot, patientId, {
      id,
      status,
      hold_expires_at: status === 'held' ? new Date(Date.now() - 60_000) : null,
      workflow_id: `booking-matrix-${id}`,
      booked_by: 'matrix',
      cancel_reason: status === 'cancelled' ? 'made by mistake' : null,
    });
  };
  await visit(cancelledHold, 'cancelled', daysFromNow(3));
  await visit(lapsed, 'fulfilled', daysFromNow(-(CARE_POLICY.visitAfterDays + 1)));
  await visit(lapsedHold, 'held', daysFromNow(4));
  const doctor = await engine.token('doctor', { id: 'matrix-care-doctor', practitionerId: clinic.practitionerId });
  const registrar = await engine.token('registrar', { id: 'matrix-care-registrar', clinicId: clinic.clinicId });
  const wrong: string[] = [];
  let cells = 0;
  for (const [route, row] of Object.entries(MATRIX).filter(([, r]) => r.care)) {
    for (const [cell, patient] of [
      ['after a cancelled hold', cancelledHold],
      ['after a lapsed hold', lapsedHold],
      ['after the window closed', lapsed],
    ] as const) {
      for (const [who, token] of [
        ['doctor', doctor],
        ['registrar', registrar],
      ] as const) {
        const answer = await request(route, row, token, undefined, { ...f, patient });
        cells++;
        if (answer.status !== 403 || answer.code !== 'no_care_relationship')
          wrong.push(`${route} as ${who} ${cell}: ${answer.status} ${answer.code ?? ''}`);
      }
    }
  }
  // The same visit inside its window does open the record (the cells above can fail).
  const recent = await makePatient(engine.db);
  await visit(recent, 'fulfilled', daysFromNow(-(CARE_POLICY.visitAfterDays - 1)));
  expect(
    (await request('GET /patients/{id}/record', MATRIX['GET /patients/{id}/record']!, doctor, undefined, { ...f, patient: recent })).status,
  ).toBe(200);
  console.log(`access matrix: ${cells} care-relationship cells`);
  expect(wrong).toEqual([]);
  expect(cells).toBeGreaterThanOrEqual(18);
}, 120_000);

/** Who repeats a write route's request: its scoped others, and a role it does not allow. */
function repeaters(row: Row): Caller[] {
  const others = (row.scoped ?? []).map((s) => OTHER[s]());
  const outsider = ROLES.find((r) => row.allow !== 'public' && !row.allow.includes(r));
  return outsider ? [...others, { ...roleCaller(outsider), id: `matrix-outsider-${outsider}` }] : others;
}

test('the same request repeated by someone else: every write route refuses it, or answers that caller afresh, never with the first answer', async () => {
  const routes = (await routesOfDocument()).filter((r) => r.startsWith('POST ') && MATRIX[r] && MATRIX[r]!.allow !== 'public');
  const wrong: string[] = [];
  let cells = 0;
  for (const route of routes) {
    const row = MATRIX[route]!;
    const first = (row.allow as readonly Role[])[0]!;
    const key = `matrix-repeat-${randomUUID()}`;
    const body = row.body ? await row.body(f) : {};
    const original = await request(route, row, await engine.token(first, roleCaller(first)), key, f, body);
    for (const caller of repeaters(row)) {
      const again = await request(route, row, await engine.token(caller.role, caller), key, f, body);
      cells++;
      // Refused as not theirs (a doctor naming another referrer is told so: 422 wrong_practitioner, as on a first request).
      const refused = again.status === 403 || (again.status === 422 && again.code === 'wrong_practitioner');
      const fresh = again.status < 300 && again.text !== original.text && !sameResource(again.text, original.text);
      if (!refused && !fresh)
        wrong.push(`${route} first as ${first} (${original.status}), repeated by ${caller.id}: ${again.status} ${again.code ?? ''}`);
    }
  }
  console.log(`access matrix: ${cells} repeated-by-someone-else cells`);
  expect(wrong).toEqual([]);
  expect(cells).toBeGreaterThanOrEqual(routes.length);
}, 600_000);

/** Do two JSON answers name the same resource (an `id` field)? */
function sameResource(a: string, b: string): boolean {
  try {
    const [x, y] = [JSON.parse(a) as { id?: string }, JSON.parse(b) as { id?: string }];
    return x.id !== undefined && x.id === y.id;
  } catch {
    return false;
  }
}
