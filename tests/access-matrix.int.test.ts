/**
 * The role matrix: every route of the OpenAPI document, called with every role and with every kind
 * of bad token. One row per route (method + path) says who may call it; a route without a row, or a
 * row without a route, fails the test. "Allowed" means the auth layer let the call through (any
 * status but 401/403: a 404 for an unknown id still proves it); bad tokens must get 401, other
 * roles 403, and on scoped routes a token of an allowed role for another patient, practitioner or
 * clinic must get 403.
 */
import { randomUUID } from 'node:crypto';
import { sign } from 'hono/jwt';
import { ROLES, type Caller, type Role } from '../api/auth';
import { makeClinic, makePatient, makeSlot, type TestClinic } from './fixtures';
import { jsonRequest, startTestEngine, type TestEngine } from './helpers';

type Fixture = 'patient' | 'practitioner' | 'clinic' | 'appointment' | 'referral' | 'labOrder';
/** Which "other" token a scoped route must refuse: a token of an allowed role, for someone else. */
type Scope = 'otherPatient' | 'otherPractitioner' | 'otherLabClinic' | 'otherRegistrarClinic';

interface Row {
  /** Roles let through; 'public' for routes without a token. */
  allow: readonly Role[] | 'public';
  /** Path parameters filled from fixtures; others get a valid but unknown uuid. */
  params?: Partial<Record<string, Fixture>>;
  /** A body valid for the route (needed where the scope check runs after validation); default {}. */
  body?: (f: Fixtures) => unknown;
  scoped?: readonly Scope[];
  /** A query string the route needs before its scope check runs. */
  query?: string;
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
const MATRIX: Record<string, Row> = {
  'GET /health': { allow: 'public' },
  'POST /ops/self-test': { allow: OPS },
  'GET /ops/summary': { allow: OPS },
  'GET /ops/critical-results': { allow: OPS },
  'GET /ops/lab-turnaround': { allow: OPS },
  'POST /codec/encode': { allow: OPS },
  'POST /codec/decode': { allow: OPS },
  'GET /metrics': { allow: OPS },
  'GET /ops/audit': { allow: OPS },
  'GET /ops/break-glass': { allow: OPS },
  'GET /cds-services': { allow: CLINICIANS },
  'POST /cds-services/{id}': { allow: CLINICIANS },

  'GET /slots': { allow: ANYONE },
  'POST /appointments': { allow: BOOKERS, scoped: ['otherPatient', 'otherRegistrarClinic'], body: (f) => ({ slotId: f.slotId, patientId: f.patient }) },
  'POST /appointments/{id}/confirm': { allow: BOOKERS, params: { id: 'appointment' }, scoped: ['otherPatient', 'otherRegistrarClinic'] },
  'POST /appointments/{id}/cancel': { allow: BOOKERS, params: { id: 'appointment' }, scoped: ['otherPatient', 'otherRegistrarClinic'], body: () => ({ reason: 'matrix' }) },
  'POST /appointments/{id}/reschedule': { allow: BOOKERS, params: { id: 'appointment' }, scoped: ['otherPatient'], body: (f) => ({ slotId: f.slotId }) },
  'POST /appointments/{id}/check-in': { allow: DESK, params: { id: 'appointment' }, scoped: ['otherRegistrarClinic'] },
  'POST /appointments/{id}/complete': { allow: CLINICIANS, params: { id: 'appointment' }, scoped: ['otherPractitioner'] },
  'GET /appointments/{id}': { allow: ANYONE, params: { id: 'appointment' }, scoped: ['otherPatient', 'otherRegistrarClinic'] },
  'GET /patients/{id}/appointments': { allow: ANYONE, params: { id: 'patient' }, scoped: ['otherPatient', 'otherRegistrarClinic'] },
  'GET /practitioners/{id}/day': { allow: STAFF, params: { id: 'practitioner' }, scoped: ['otherPractitioner', 'otherRegistrarClinic'], query: '?date=2030-01-02' },
  'POST /practitioners/{id}/leave': { allow: DESK, params: { id: 'practitioner' }, scoped: ['otherRegistrarClinic'], body: () => ({ startsOn: '2030-01-02', endsOn: '2030-01-02', reason: 'matrix' }) },
  'POST /waitlist': { allow: BOOKERS, scoped: ['otherPatient'], body: (f) => ({ patientId: f.patient, specialty: f.specialty, wantedBefore: new Date(Date.now() + 86400_000).toISOString() }) },

  'GET /clinics': { allow: OPS },
  'POST /onboarding/{clinicId}/start': { allow: ADMIN },
  'GET /onboarding/{clinicId}': { allow: OPS },
  'POST /onboarding/{clinicId}/tasks/{taskId}/complete': { allow: OPS },
  'POST /onboarding/{clinicId}/blockers': { allow: OPS },
  'POST /onboarding/{clinicId}/blockers/{id}/resolve': { allow: OPS },
  'POST /onboarding/{clinicId}/training': { allow: OPS },
  'POST /onboarding/{clinicId}/equipment/{itemId}': { allow: OPS },
  'POST /onboarding/{clinicId}/incidents': { allow: ONBOARDING_REPORTERS },
  'POST /onboarding/{clinicId}/incidents/{id}/resolve': { allow: OPS },
  'POST /onboarding/{clinicId}/decision': { allow: ADMIN },
  'POST /rollout-programs': { allow: ADMIN },
  'GET /rollout-programs/{id}': { allow: OPS },
  'POST /rollout-programs/{id}/pause': { allow: ADMIN },
  'POST /rollout-programs/{id}/resume': { allow: ADMIN },
  'POST /rollout-programs/{id}/clinics': { allow: ADMIN },

  'POST /referrals': { allow: STAFF },
  'GET /referrals': { allow: STAFF },
  'GET /referrals/queue': { allow: STAFF },
  'GET /referrals/{id}': { allow: ANYONE, params: { id: 'referral' }, scoped: ['otherPatient', 'otherRegistrarClinic'] },
  'POST /referrals/{id}/book': { allow: BOOKERS, params: { id: 'referral' }, scoped: ['otherPatient', 'otherRegistrarClinic'], body: (f) => ({ slotId: f.slotId }) },
  'POST /referrals/{id}/report': { allow: ['doctor'], params: { id: 'referral' } },
  'POST /referrals/{id}/acknowledge': { allow: ['doctor'], params: { id: 'referral' }, scoped: ['otherPractitioner'] },
  'POST /referrals/{id}/cancel': { allow: ANYONE, params: { id: 'referral' }, scoped: ['otherPatient', 'otherPractitioner'], body: () => ({ reason: 'matrix' }) },
  'GET /patients/{id}/referrals': { allow: ANYONE, params: { id: 'patient' }, scoped: ['otherPatient'] },

  'POST /lab-orders': { allow: CLINICIANS },
  'GET /lab-orders/{id}': { allow: ['doctor', 'lab', 'admin', 'ops'], params: { id: 'labOrder' }, scoped: ['otherPractitioner', 'otherLabClinic'] },
  'GET /lab-orders/{id}/events': { allow: ['doctor', 'lab', 'admin', 'ops'], params: { id: 'labOrder' }, scoped: ['otherPractitioner', 'otherLabClinic'] },
  'POST /lab-orders/{id}/cancel': { allow: CLINICIANS, params: { id: 'labOrder' }, scoped: ['otherPractitioner'], body: () => ({ reason: 'matrix' }) },
  'POST /lab-orders/{id}/acknowledge': { allow: CLINICIANS, params: { id: 'labOrder' }, scoped: ['otherPractitioner'], body: () => ({ readBack: [] }) },
  'GET /lab-orders/{id}/cds': { allow: CLINICIANS, params: { id: 'labOrder' }, scoped: ['otherPractitioner'] },
  'GET /lab/worklist': { allow: LAB },
  'POST /lab-orders/{id}/specimen/collect': { allow: LAB, params: { id: 'labOrder' }, scoped: ['otherLabClinic'], body: () => ({ barcode: 'MATRIX-1' }) },
  'POST /lab-orders/{id}/specimen/receive': { allow: LAB, params: { id: 'labOrder' }, scoped: ['otherLabClinic'] },
  'POST /lab-orders/{id}/specimen/reject': { allow: LAB, params: { id: 'labOrder' }, scoped: ['otherLabClinic'], body: () => ({ reason: 'haemolysed' }) },
  'POST /lab-orders/{id}/results': { allow: LAB, params: { id: 'labOrder' }, scoped: ['otherLabClinic'], body: () => ({ results: [{ loinc: '2345-7', value: 5, unit: 'mmol/L' }] }) },
  'POST /lab-results/hl7v2': { allow: LAB },
  'GET /lab-messages/unmatched': { allow: LAB },
  'POST /lab-messages/{id}/attach': { allow: LAB, body: (f) => ({ orderId: f.labOrder }) },
  'POST /lab-messages/{id}/reject': { allow: LAB, body: () => ({ reason: 'duplicate' }) },
  'GET /lab-messages/resolutions': { allow: OPS },
  'GET /doctors/me/lab-inbox': { allow: ['doctor'] },
  'GET /patients/{id}/record': { allow: ['patient', 'registrar', 'doctor', 'admin'], params: { id: 'patient' }, scoped: ['otherPatient', 'otherPractitioner', 'otherRegistrarClinic'] },
  'GET /patients/{id}/record/access-log': { allow: ['patient', 'ops', 'admin'], params: { id: 'patient' }, scoped: ['otherPatient'] },
  'GET /patients/{id}/lab-results': { allow: ['patient', 'doctor', 'admin'], params: { id: 'patient' }, scoped: ['otherPatient'] },
  'POST /patients/{id}/vitals': { allow: CLINICIANS, params: { id: 'patient' } },
};

interface Fixtures { patient: string; practitioner: string; clinic: string; appointment: string; referral: string; labOrder: string; slotId: string; specialty: string }

let engine: TestEngine;
let f: Fixtures;
let other: { clinic: TestClinic; patient: string };
beforeAll(async () => {
  engine = await startTestEngine();
  const clinic = await makeClinic(engine.db);
  other = { clinic: await makeClinic(engine.db), patient: await makePatient(engine.db) };
  const patient = await makePatient(engine.db);
  const slot = await makeSlot(engine.db, clinic, 2 * 24 * 3600);
  const apptSlot = await makeSlot(engine.db, clinic, 3 * 24 * 3600);
  const appointment = randomUUID();
  // Rows without running processes: an action reaches its handler and then finds no process (404/409).
  await engine.db.insertInto('appointments').values({
    id: appointment, slot_id: apptSlot.id, patient_id: patient, practitioner_id: clinic.practitionerId, clinic_id: clinic.clinicId,
    starts_at: apptSlot.startsAt, ends_at: apptSlot.endsAt, status: 'booked', hold_expires_at: null, workflow_id: `booking-matrix-${appointment}`, booked_by: 'matrix', cancel_reason: null,
  }).execute();
  const referral = randomUUID();
  await engine.db.insertInto('referrals').values({
    id: referral, patient_id: patient, clinic_id: clinic.clinicId, referring_practitioner_id: clinic.practitionerId, specialty: clinic.specialty, priority: 'routine',
    status: 'created', deadline_at: new Date(Date.now() + 7 * 86400_000), appointment_id: null, report_received_at: null, workflow_id: `referral-matrix-${referral}`, created_by: 'matrix',
    icd10: 'I10', reason: 'matrix', target_practitioner_id: null, target_test: null, valid_until: new Date(Date.now() + 30 * 86400_000),
    booked_at: null, acknowledged_at: null, acknowledged_by: null, cancel_reason: null, closed_at: null,
  }).execute();
  const labOrder = randomUUID();
  await engine.db.insertInto('lab_orders').values({
    id: labOrder, patient_id: patient, clinic_id: clinic.clinicId, ordering_practitioner_id: clinic.practitionerId, tests: ['2345-7'], priority: 'routine', status: 'ordered',
    workflow_id: `lab-order-matrix-${labOrder}`, clinical_note: null, created_by: 'matrix', deadline_at: null, barcode: null, collected_by: null, collected_at: null, received_at: null,
    resulted_at: null, final_at: null, acknowledged_at: null, acknowledged_by: null, ack_seconds: null, cancelled_at: null, cancel_reason: null,
  }).execute();
  f = { patient, practitioner: clinic.practitionerId, clinic: clinic.clinicId, appointment, referral, labOrder, slotId: slot.id, specialty: clinic.specialty };
}, 120_000);
afterAll(async () => { await engine?.stop(); });

/** Each role's token, bound to the fixtures' patient, practitioner and clinic. */
const roleCaller = (role: Role): Caller => ({ id: `matrix-${role}`, role, patientId: role === 'patient' ? f.patient : undefined, practitionerId: role === 'doctor' ? f.practitioner : undefined, clinicId: ['lab', 'registrar'].includes(role) ? f.clinic : undefined });
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
  'expired token': () => sign({ sub: 'matrix-admin', role: 'admin', iat: now() - 7200, exp: now() - 3600 }, engine.config.AUTH_SECRET, 'HS256'),
  'other secret': () => sign({ sub: 'matrix-admin', role: 'admin', iat: now(), exp: now() + 3600 }, 'another-secret-another-secret-another-secret', 'HS256'),
  'no exp': () => sign({ sub: 'matrix-admin', role: 'admin', iat: now() }, engine.config.AUTH_SECRET, 'HS256'),
};

async function routesOfDocument(): Promise<string[]> {
  const doc = (await (await engine.app.request('/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
  return Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
}

async function call(route: string, row: Row, token: string | undefined): Promise<number> {
  const [method, template] = route.split(' ') as [string, string];
  const path = template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const fixture = row.params?.[name];
    return fixture ? f[fixture] : randomUUID();
  });
  const url = path + (row.query ?? '');
  const init = method === 'GET' ? jsonRequest(method, token) : jsonRequest(method, token, row.body ? row.body(f) : {});
  (init.headers as Record<string, string>)['idempotency-key'] = `matrix-${randomUUID()}`;
  const res = await engine.app.request(url, init);
  await res.arrayBuffer();
  return res.status;
}

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
      const status = await call(route, row, await engine.token(role, roleCaller(role)));
      const allowed = row.allow === 'public' || row.allow.includes(role);
      cells++;
      if (allowed ? [401, 403].includes(status) : status !== 403) wrong.push(`${route} as ${role}: ${status}, expected ${allowed ? 'allowed' : 403}`);
    }
    for (const [kind, token] of Object.entries(BAD_TOKENS)) {
      const status = await call(route, row, await token());
      cells++;
      if (row.allow === 'public' ? [401, 403].includes(status) : status !== 401) wrong.push(`${route} with ${kind}: ${status}, expected ${row.allow === 'public' ? 'allowed' : 401}`);
    }
    for (const scope of row.scoped ?? []) {
      const caller = OTHER[scope]();
      const status = await call(route, row, await engine.token(caller.role, caller));
      cells++;
      if (status !== 403) wrong.push(`${route} as ${scope}: ${status}, expected 403`);
    }
  }
  // The matrix's size, for the closing note.
  console.log(`access matrix: ${routes.length} routes × ${ROLES.length + Object.keys(BAD_TOKENS).length} token kinds (+ scoped) = ${cells} cells`);
  expect(wrong).toEqual([]);
  expect(cells).toBeGreaterThanOrEqual(routes.length * 11);
}, 600_000);
