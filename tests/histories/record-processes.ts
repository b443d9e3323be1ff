/**
 * The recorder's paths for the referral, lab order, onboarding and rollout processes
 * (tests/histories/record.ts runs them). Each drives its process through the real API and workers
 * with policies in seconds, set up as its integration test does; patients are synthetic.
 */
import { randomUUID } from 'node:crypto';
import { onboardingProgressQuery, onboardingStateQuery } from '../../workflows/onboarding';
import { rolloutDashboardQuery } from '../../workflows/rollout';
import { makeClinic, makePatient, makeSlot, type TestClinic } from '../fixtures';
import { eventually, jsonRequest, type TestEngine } from '../helpers';
import { LIPIDS_MMOL, labApi, makeLabClinic, makeLabPatient } from '../lab-fixtures';
import { fastPolicy, makeOnboardingClinic } from '../onboarding-fixtures';

type Json = Record<string, any>;
/** A recording: file name (without .json) → the workflow id whose history it holds. */
export type Recorded = Record<string, string>;

export function processPaths(e: () => TestEngine): Record<string, () => Promise<Recorded>> {
  async function call(method: string, url: string, token: string, body?: unknown): Promise<Json> {
    const init = jsonRequest(method, token, body);
    (init.headers as Record<string, string>)['idempotency-key'] = `record-${randomUUID()}`;
    const res = await e().app.request(url, init);
    const json = (await res.json()) as Json;
    if (res.status >= 300) throw new Error(`${method} ${url} answered ${res.status}: ${JSON.stringify(json)}`);
    return json;
  }
  const registrar = () => e().token('registrar');
  const admin = () => e().token('admin');
  const doctor = (practitionerId: string) => e().token('doctor', { id: `doctor-${practitionerId}`, practitionerId });

  // Referrals (tests/referral.int.test.ts).
  async function referralClinic(waitSeconds: number, share = 0.5): Promise<TestClinic> {
    const clinic = await makeClinic(e().db);
    await e()
      .db.insertInto('referral_policies')
      .values({
        clinic_id: clinic.clinicId,
        region: null,
        kind: 'specialist',
        urgency: 'routine',
        wait_working_days: null,
        wait_hours: null,
        wait_seconds: waitSeconds,
        escalation_share: share,
        acknowledge_seconds: 3600,
        no_show_limit: 2,
        validity_days: 30,
      })
      .execute();
    return clinic;
  }
  const refer = async (clinic: TestClinic, patientId: string) =>
    (
      await call('POST', '/referrals', await doctor(clinic.otherPractitionerId), {
        patientId,
        referringPractitionerId: clinic.otherPractitionerId,
        specialty: clinic.specialty,
        reason: 'synthetic reason',
        icd10: 'I20.8',
      })
    ).id as string;
  const referral = (id: string) => e().db.selectFrom('referrals').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const referralIs = (id: string, ok: (r: Awaited<ReturnType<typeof referral>>) => boolean, what: string) =>
    eventually(async () => ok(await referral(id)), 60_000, `referral ${what}`);

  // Lab orders (tests/lab-order.int.test.ts).
  const labOrderIs = (id: string, status: string) =>
    eventually(
      async () => (await e().db.selectFrom('lab_orders').select('status').where('id', '=', id).executeTakeFirst())?.status === status,
      60_000,
      `lab order ${status}`,
    );

  // Onboarding and rollout (tests/onboarding.int.test.ts, tests/rollout.int.test.ts).
  const progress = (clinicId: string) =>
    e()
      .client.workflow.getHandle(`onboarding-${clinicId}`)
      .query(onboardingProgressQuery)
      .catch(() => null);
  const stageIs = (clinicId: string, stage: string) =>
    eventually(async () => (await progress(clinicId))?.stage === stage, 60_000, `stage ${stage}`);
  const awaitingDecision = (clinicId: string) =>
    eventually(async () => (await progress(clinicId))?.status === 'awaiting-decision', 60_000, 'awaiting decision');

  return {
    async 'referral-closed'() {
      const clinic = await referralClinic(7200);
      const patientId = await makePatient(e().db);
      const id = await refer(clinic, patientId);
      await referralIs(id, (r) => r.status === 'offered', 'offered');
      const slot = await makeSlot(e().db, clinic, 3600);
      const booked = await call('POST', `/referrals/${id}/book`, await registrar(), { slotId: slot.id });
      const appointmentId = booked.appointmentId as string;
      await call('POST', `/appointments/${appointmentId}/check-in`, await registrar());
      await referralIs(id, (r) => r.status === 'attended', 'attended');
      await call('POST', `/appointments/${appointmentId}/complete`, await doctor(clinic.practitionerId));
      await call('POST', `/referrals/${id}/report`, await doctor(clinic.practitionerId), {
        patientId,
        conclusion: 'Synthetic conclusion.',
        icd10: ['I20.8'],
        recommendations: 'Synthetic advice.',
      });
      await call('POST', `/referrals/${id}/acknowledge`, await doctor(clinic.otherPractitionerId));
      const appointment = await e()
        .db.selectFrom('appointments')
        .select('workflow_id')
        .where('id', '=', appointmentId)
        .executeTakeFirstOrThrow();
      return { 'referralWorkflow-closed': `referral-${id}`, 'bookingWorkflow-referral': appointment.workflow_id };
    },

    /** Nobody books: escalated to the registrar queue, breached at the deadline, then cancelled. */
    async 'referral-breached'() {
      const clinic = await referralClinic(4, 0.25);
      const id = await refer(clinic, await makePatient(e().db));
      await referralIs(id, (r) => r.breached, 'breached');
      await call('POST', `/referrals/${id}/cancel`, await registrar(), { reason: 'synthetic test reason' });
      return { 'referralWorkflow-breached-cancelled': `referral-${id}` };
    },

    async 'lab-order-closed'() {
      const clinic = await makeLabClinic(e().db);
      const api = labApi(e(), clinic);
      const patientId = await makeLabPatient(e().db);
      await api.vitals(patientId);
      const orderId = (await api.order(patientId, ['24331-1', '2345-7'], 'urgent')).body.id as string;
      await api.collectAndReceive(orderId);
      const posted = await api.post(orderId, [...LIPIDS_MMOL, { loinc: '2345-7', value: 117, unit: 'mg/dL' }]);
      if (posted.status !== 200) throw new Error(`results: ${posted.status}`);
      const cds = await api.call('GET', `/lab-orders/${orderId}/cds?wait=40s`, await api.doctorToken());
      if (cds.body.status !== 'ready') throw new Error(`cds: ${cds.status} ${cds.body.status}`);
      await api.call('POST', `/lab-orders/${orderId}/acknowledge`, await api.doctorToken(), { readBack: [] });
      await labOrderIs(orderId, 'closed');
      return { 'labOrderWorkflow-closed': `lab-order-${orderId}` };
    },

    async 'lab-order-critical'() {
      const clinic = await makeLabClinic(e().db);
      const api = labApi(e(), clinic);
      const orderId = (await api.order(await makeLabPatient(e().db), ['2823-3'], 'stat')).body.id as string;
      await api.collectAndReceive(orderId);
      await api.post(orderId, [{ loinc: '2823-3', value: 6.8, unit: 'mmol/L' }]);
      const ack = await api.call('POST', `/lab-orders/${orderId}/acknowledge`, await api.doctorToken(), {
        readBack: [{ loinc: '2823-3', value: 6.8, unit: 'mmol/L' }],
      });
      if (ack.status !== 200) throw new Error(`acknowledge: ${ack.status} ${JSON.stringify(ack.body)}`);
      await labOrderIs(orderId, 'closed');
      return { 'labOrderWorkflow-critical-read-back': `lab-order-${orderId}` };
    },

    async 'lab-order-recollection'() {
      const clinic = await makeLabClinic(e().db);
      const api = labApi(e(), clinic);
      const orderId = (await api.order(await makeLabPatient(e().db), ['2823-3'])).body.id as string;
      await api.collectAndReceive(orderId, 'TUBE-0001');
      const rejected = await api.call('POST', `/lab-orders/${orderId}/specimen/reject`, await api.labToken(), { reason: 'haemolysed' });
      if (rejected.status !== 200) throw new Error(`reject: ${rejected.status}`);
      await api.collectAndReceive(orderId, 'TUBE-0002');
      await api.post(orderId, [{ loinc: '2823-3', value: 4.1, unit: 'mmol/L' }]);
      await api.call('POST', `/lab-orders/${orderId}/acknowledge`, await api.doctorToken(), { readBack: [] });
      await labOrderIs(orderId, 'closed');
      return { 'labOrderWorkflow-recollection': `lab-order-${orderId}` };
    },

    /** Preparation → training → pilot → a no-go → another pilot period → go → live. */
    async 'onboarding-live'() {
      const clinic = await makeOnboardingClinic(e().db, { patients: 2 });
      const url = `/onboarding/${clinic.clinicId}`;
      await call('POST', `${url}/start`, await admin(), { policy: fastPolicy() });
      await stageIs(clinic.clinicId, 'preparation');
      const ops = await e().token('ops');
      for (const item of clinic.equipmentIds)
        for (const step of ['ordered', 'delivered', 'installed']) await call('POST', `${url}/equipment/${item}`, ops, { step });
      await call('POST', `${url}/tasks/infrastructure-survey/complete`, ops, {});
      await call('POST', `${url}/tasks/system-adaptation/complete`, ops, {});
      await call('POST', `${url}/tasks/registry-migration/complete`, ops, { expectedPatients: 2 });
      await call('POST', `${url}/tasks/process-unification/complete`, await admin(), {});
      await stageIs(clinic.clinicId, 'training');
      await call('POST', `${url}/training`, ops, { staffId: clinic.staffIds[0], certified: true });
      await stageIs(clinic.clinicId, 'pilot');
      await awaitingDecision(clinic.clinicId);
      await call('POST', `${url}/decision`, await admin(), { decision: 'no-go', reason: 'synthetic reason' });
      await eventually(
        async () => {
          const s = await e().client.workflow.getHandle(`onboarding-${clinic.clinicId}`).query(onboardingStateQuery);
          return s.pilotRound === 2 && s.awaitingDecision;
        },
        60_000,
        'second pilot round',
      );
      await call('POST', `${url}/decision`, await admin(), { decision: 'go', reason: 'synthetic reason' });
      await stageIs(clinic.clinicId, 'live');
      return { 'onboardingWorkflow-live-after-no-go': `onboarding-${clinic.clinicId}` };
    },

    /** Two pilots, then a wave of two; a third clinic is added while the pilots run. */
    async rollout() {
      const pilot = async () => (await makeOnboardingClinic(e().db, { stage: 'pilot', staff: 0, equipment: 0 })).clinicId;
      const wave = async () => (await makeOnboardingClinic(e().db, { stage: 'training', staff: 0, equipment: 0 })).clinicId;
      const pilots = [await pilot(), await pilot()];
      const others = [await wave(), await wave()];
      const added = await wave();
      const policy = { maxConcurrent: 2, onboarding: fastPolicy({ certifiedShare: 0, pilotPeriodSeconds: 1 }) };
      const { programId } = await call('POST', '/rollout-programs', await admin(), {
        name: 'Recorded city',
        pilotClinicIds: pilots,
        clinicIds: others,
        policy,
      });
      await call('POST', `/rollout-programs/${programId}/clinics`, await admin(), { clinicId: added });
      const all = [...pilots, ...others, added];
      // The program office says go to every clinic awaiting its decision.
      const dashboard = () => e().client.workflow.getHandle(`rollout-${programId}`).query(rolloutDashboardQuery);
      await eventually(
        async () => {
          for (const id of all) {
            if ((await progress(id))?.status === 'awaiting-decision')
              await call('POST', `/onboarding/${id}/decision`, await admin(), { decision: 'go', reason: 'synthetic reason' }).catch(
                () => undefined,
              );
          }
          return (await dashboard()).phase === 'done';
        },
        120_000,
        'program done',
      );
      return { 'rolloutProgramWorkflow-pilots-wave': `rollout-${programId}` };
    },
  };
}
