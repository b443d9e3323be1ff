/**
 * Records one workflow history per process path into tests/histories/<workflowType>-<path>.json,
 * for the replay test (tests/replay.test.ts) to replay against every later workflow bundle.
 *
 *   node --import tsx tests/histories/record.ts [path-name …] [--tag <t>] [--overwrite]
 *
 * Starts its own test stack (tests/test-stack.ts: Postgres, Temporal dev server, bundle; or the
 * DATABASE_URL / TEMPORAL_ADDRESS given), runs each path through the real API and workers with
 * policies in seconds, and encrypts every payload with the TEST-ONLY key, so the files hold no
 * readable data. Patients are synthetic (tests/fixtures.ts). An existing file is kept unless
 * --overwrite: the files of released code are what running executions' histories look like, so a
 * path recorded again from changed code goes to a new file (--tag, e.g. `--tag 2026-12`).
 */
import { randomUUID } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SLOT_HORIZON_DAYS } from '../../workers/schedules';
import { daysFromNow, makeClinic, makePatient, makeShortSlot, makeSlot, type TestClinic } from '../fixtures';
import globalSetup from '../global-setup';
import globalTeardown from '../global-teardown';
import { eventually, jsonRequest, startTestEngine, type TestEngine } from '../helpers';
import { HISTORIES_DIR, historyToJSON, REPLAY_TEST_PAYLOAD_KEY, REPLAY_TEST_PAYLOAD_KEY_ID } from './history-files';
import { processPaths, type Recorded } from './record-processes';
import { notifyPaths } from './record-notify';

type Json = Record<string, any>;

let engine: TestEngine;

async function call(method: string, url: string, token: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const init = jsonRequest(method, token, body);
  (init.headers as Record<string, string>)['idempotency-key'] = `record-${randomUUID()}`;
  const res = await engine.app.request(url, init);
  const json = (await res.json()) as Json;
  if (res.status >= 300) throw new Error(`${method} ${url} answered ${res.status}: ${JSON.stringify(json)}`);
  return { status: res.status, body: json };
}
/** A registrar of the slot's / appointment's clinic (registrars act only for the clinic(s) on their token). */
const registrar = (clinicId: string) => engine.token('registrar', { clinicId });
const clinicOf = async (table: 'slots' | 'appointments', id: string) =>
  (await engine.db.selectFrom(table).select('clinic_id').where('id', '=', id).executeTakeFirstOrThrow()).clinic_id;
const book = async (slotId: string, patientId: string) =>
  (await call('POST', '/appointments', await registrar(await clinicOf('slots', slotId)), { slotId, patientId })).body as { id: string };
const act = async (id: string, action: string, body?: unknown) =>
  call('POST', `/appointments/${id}/${action}`, await registrar(await clinicOf('appointments', id)), body);
const statusBecomes = (id: string, status: string) =>
  eventually(
    async () => (await engine.db.selectFrom('appointments').select('status').where('id', '=', id).executeTakeFirst())?.status === status,
    60_000,
    `appointment ${status}`,
  );
const wfId = (appointmentId: string) => `booking-${appointmentId}`;
const waitFor = async (clinic: TestClinic, patientId: string) =>
  call('POST', '/waitlist', await registrar(clinic.clinicId), {
    patientId,
    specialty: clinic.specialty,
    practitionerId: clinic.practitionerId,
    wantedBefore: daysFromNow(30).toISOString(),
  });
const offeredTo = (slotId: string) =>
  eventually(
    () =>
      engine.db
        .selectFrom('appointments')
        .select(['id', 'workflow_id'])
        .where('slot_id', '=', slotId)
        .where('status', '=', 'offered')
        .executeTakeFirst(),
    60_000,
    'waitlist offer',
  );

/** Every path, by name: what it does, and which histories it leaves. */
const PATHS: Record<string, () => Promise<Recorded>> = {
  async 'happy-path'() {
    const clinic = await makeClinic(engine.db, { policy: { reminderLeadSeconds: 4, noShowGraceSeconds: 60 } });
    const slot = await makeShortSlot(engine.db, clinic, 10, 3);
    const { id } = await book(slot.id, await makePatient(engine.db));
    await act(id, 'confirm');
    await eventually(
      () =>
        engine.db
          .selectFrom('notifications')
          .select('id')
          .where('appointment_id', '=', id)
          .where('kind', '=', 'reminder')
          .executeTakeFirst(),
      60_000,
      'reminder',
    );
    await act(id, 'check-in');
    await statusBecomes(id, 'fulfilled');
    return { 'bookingWorkflow-happy-path': wfId(id) };
  },

  /** The registrar's one-call booking (booked from the start), then cancelled by the patient's clinic. */
  async 'desk-booking'() {
    const clinic = await makeClinic(engine.db);
    const slot = await makeSlot(engine.db, clinic, daysFromNow(4, 10));
    const { id } = (
      await call('POST', '/appointments', await registrar(clinic.clinicId), {
        slotId: slot.id,
        patientId: await makePatient(engine.db),
        confirm: true,
      })
    ).body as { id: string };
    await eventually(
      async () => (await engine.client.workflow.getHandle(wfId(id)).describe()).historyLength >= 4,
      60_000,
      'the process has run its first task',
    );
    await act(id, 'cancel', { reason: 'synthetic test reason' });
    await eventually(
      async () => (await engine.client.workflow.getHandle(wfId(id)).describe()).status.name === 'COMPLETED',
      60_000,
      'the process ended',
    );
    return { 'bookingWorkflow-desk-booking': wfId(id) };
  },

  /** Cancelled with a patient on the waitlist: the slot goes to them as an offer, its own process. */
  async cancel() {
    const clinic = await makeClinic(engine.db);
    const [alice, carol] = [await makePatient(engine.db), await makePatient(engine.db)];
    await waitFor(clinic, carol);
    const slot = await makeSlot(engine.db, clinic, daysFromNow(4, 8));
    const { id } = await book(slot.id, alice);
    await act(id, 'confirm');
    await act(id, 'cancel', { reason: 'synthetic test reason' });
    // The offer process: Carol accepts, then cancels too (nobody else waits, so it ends there).
    const offer = await offeredTo(slot.id);
    await act(offer.id, 'confirm');
    await act(offer.id, 'cancel', { reason: 'synthetic test reason' });
    return { 'bookingWorkflow-cancel': wfId(id), 'bookingWorkflow-waitlist-offer': offer.workflow_id };
  },

  /** Moved from a visit days away to one seconds away: the timers start over, then the visit runs. */
  async reschedule() {
    const clinic = await makeClinic(engine.db, { policy: { reminderLeadSeconds: 4, noShowGraceSeconds: 60 } });
    const far = await makeSlot(engine.db, clinic, daysFromNow(5, 9));
    const { id } = await book(far.id, await makePatient(engine.db));
    await act(id, 'confirm');
    const near = await makeShortSlot(engine.db, clinic, 15, 3);
    await act(id, 'reschedule', { slotId: near.id });
    await eventually(
      () =>
        engine.db
          .selectFrom('notifications')
          .select('id')
          .where('appointment_id', '=', id)
          .where('kind', '=', 'reminder')
          .executeTakeFirst(),
      60_000,
      'reminder',
    );
    await act(id, 'check-in');
    await statusBecomes(id, 'fulfilled');
    return { 'bookingWorkflow-reschedule': wfId(id) };
  },

  async 'hold-expiry'() {
    const clinic = await makeClinic(engine.db, { policy: { holdSeconds: 2 } });
    const slot = await makeSlot(engine.db, clinic, daysFromNow(3, 10));
    const { id } = await book(slot.id, await makePatient(engine.db));
    await statusBecomes(id, 'expired');
    return { 'bookingWorkflow-hold-expiry': wfId(id) };
  },

  async 'no-show'() {
    const clinic = await makeClinic(engine.db, { policy: { reminderLeadSeconds: 3, noShowGraceSeconds: 2 } });
    const slot = await makeShortSlot(engine.db, clinic, 6, 60);
    const { id } = await book(slot.id, await makePatient(engine.db));
    await act(id, 'confirm');
    await statusBecomes(id, 'noshow');
    return { 'bookingWorkflow-no-show': wfId(id) };
  },

  /** A hold whose process was terminated, released by the sweep and offered to the waitlist. */
  async 'lapsed-holds-sweep'() {
    const clinic = await makeClinic(engine.db, { policy: { holdSeconds: 1 } });
    const [alice, carol] = [await makePatient(engine.db), await makePatient(engine.db)];
    await waitFor(clinic, carol);
    const slot = await makeSlot(engine.db, clinic, daysFromNow(2, 11));
    const { id } = await book(slot.id, alice);
    await engine.client.workflow.getHandle(wfId(id)).terminate('recording the lapsed-holds sweep');
    await new Promise((r) => setTimeout(r, 4500));
    const workflowId = `sweep-${randomUUID()}`;
    await engine.client.workflow.execute('lapsedHoldsWorkflow', {
      workflowId,
      taskQueue: engine.config.CLINICAL_TASK_QUEUE,
      args: [{ overdueSeconds: 3 }],
    });
    await offeredTo(slot.id);
    return { 'lapsedHoldsWorkflow-sweep': workflowId };
  },

  async 'slot-horizon'() {
    const workflowId = `slot-horizon-${randomUUID()}`;
    await engine.client.workflow.execute('slotHorizonWorkflow', {
      workflowId,
      taskQueue: engine.config.CLINICAL_TASK_QUEUE,
      args: [{ days: SLOT_HORIZON_DAYS }],
    });
    return { 'slotHorizonWorkflow-daily': workflowId };
  },

  /** A patient-view CDS Hooks call with a synthetic patient's prefetch. */
  async 'cds-assessment'() {
    const hookInstance = randomUUID();
    const obs = (loinc: string, value: number, unit: string) => ({
      resource: {
        resourceType: 'Observation',
        status: 'final',
        code: { coding: [{ system: 'http://loinc.org', code: loinc }] },
        valueQuantity: { value, unit },
        effectiveDateTime: new Date(Date.now() - 2 * 86_400_000).toISOString(),
      },
    });
    const bundle = (entry: unknown[]) => ({ resourceType: 'Bundle', type: 'searchset', entry });
    const prefetch = {
      patient: { resourceType: 'Patient', id: 'synthetic-patient-1', gender: 'male', birthDate: '1966-01-01' },
      labs: bundle([
        obs('2093-3', 5.5, 'mmol/L'),
        obs('13457-7', 3.14, 'mmol/L'),
        obs('2085-9', 1.0, 'mmol/L'),
        obs('2571-8', 3.0, 'mmol/L'),
        obs('2345-7', 6.5, 'mmol/L'),
        obs('2160-0', 90, 'umol/L'),
      ]),
      vitals: bundle([obs('39156-5', 31, 'kg/m2'), obs('8480-6', 140, 'mm[Hg]'), obs('8462-4', 90, 'mm[Hg]')]),
    };
    await call('POST', '/cds-services/diabetes-progression', await engine.token('doctor'), {
      hook: 'patient-view',
      hookInstance,
      context: { userId: 'Practitioner/synthetic', patientId: 'synthetic-patient-1' },
      prefetch,
    });
    const row = await engine.db
      .selectFrom('cds_assessments')
      .select('request_key')
      .where('request_key', 'like', `cds-${hookInstance}-%`)
      .executeTakeFirstOrThrow();
    return { 'cdsAssessmentWorkflow-patient-view': row.request_key };
  },

  async 'self-test'() {
    const { body } = await call('POST', '/ops/self-test', await engine.token('ops'));
    return { 'selfTestWorkflow-ops': body.workflowId as string };
  },

  // Referral, lab order, onboarding and rollout paths (tests/histories/record-processes.ts).
  ...processPaths(() => engine),
  ...notifyPaths(() => engine),
};

/**
 * Worker and client identities and sticky task queues name the recording machine (pid@host);
 * the replay never reads them, so they are written as "history-recorder".
 */
function scrubMachineNames(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(scrubMachineNames);
  if (!node || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node)) out[k] = k === 'identity' ? 'history-recorder' : scrubMachineNames(v);
  if (out.kind === 'TASK_QUEUE_KIND_STICKY') out.name = 'history-recorder-sticky';
  return out;
}

/** Writes the history unless its file exists (old histories stay as recorded); returns the events written. */
async function save(file: string, workflowId: string, overwrite: boolean): Promise<string> {
  const handle = engine.client.workflow.getHandle(workflowId);
  await eventually(async () => (await handle.describe()).status.name !== 'RUNNING', 60_000, `${workflowId} closed`);
  const history = await handle.fetchHistory();
  const target = path.join(HISTORIES_DIR, file);
  if (existsSync(target) && !overwrite) return `${file}: kept (it exists; --overwrite replaces it)`;
  writeFileSync(target, `${JSON.stringify(scrubMachineNames(JSON.parse(historyToJSON(history))), null, 2)}\n`);
  return `${file}: ${history.events?.length ?? 0} events`;
}

/** Arguments: path names (none: every path), `--tag <t>` (files named `…-<path>.<t>.json`), `--overwrite`. */
function parseArgs(argv: string[]) {
  const overwrite = argv.includes('--overwrite');
  const tagAt = argv.indexOf('--tag');
  const tag = tagAt >= 0 ? argv[tagAt + 1] : undefined;
  if (tagAt >= 0 && !/^[\w-]+$/.test(tag ?? '')) throw new Error('--tag needs a word (letters, digits, - or _)');
  const names = argv.filter((a, i) => !a.startsWith('--') && (tagAt < 0 || i !== tagAt + 1));
  for (const name of names) if (!PATHS[name]) throw new Error(`unknown path ${name}; known: ${Object.keys(PATHS).join(', ')}`);
  return { names: names.length ? names : Object.keys(PATHS), tag, overwrite };
}

async function main() {
  const { names, tag, overwrite } = parseArgs(process.argv.slice(2));
  await globalSetup();
  // Everything this run encrypts (API client, both workers) uses the test key.
  Object.assign(process.env, {
    PAYLOAD_KEY: REPLAY_TEST_PAYLOAD_KEY,
    PAYLOAD_KEY_ID: REPLAY_TEST_PAYLOAD_KEY_ID,
    PAYLOAD_KEYS_RETIRED: '',
  });
  engine = await startTestEngine();
  try {
    // The sweep releases every overdue hold: it runs alone, after the others.
    const alone: string[] = names.filter((n) => n === 'lapsed-holds-sweep');
    const together = names.filter((n) => !alone.includes(n));
    const recorded: Recorded = {};
    for (const r of await Promise.all(together.map((n) => PATHS[n]!()))) Object.assign(recorded, r);
    for (const n of alone) Object.assign(recorded, await PATHS[n]!());
    for (const [name, workflowId] of Object.entries(recorded))
      console.log(await save(`${name}${tag ? `.${tag}` : ''}.json`, workflowId, overwrite));
  } finally {
    await engine.stop();
    await globalTeardown();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
