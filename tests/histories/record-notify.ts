/**
 * The recorder's paths for the delivery process (tests/histories/record.ts runs them): a reminder
 * e-mailed at once (log-only transport), and a waitlist offer told after quiet hours, whose
 * booking process extends the hold (then confirmed and cancelled, so both processes end).
 */
import { randomUUID } from 'node:crypto';
import { saveContactPoints } from '../../db/notify';
import { startOfLocalDay } from '../../domain/calendar';
import { DEFAULT_NOTIFY_POLICY, type NotifyPolicy } from '../../domain/notify';
import { localDateTime } from '../../domain/time';
import { notifyWorkflow, notifyWorkflowId } from '../../workflows/notify';
import { daysFromNow, makeClinic, makePatient, makeSlot } from '../fixtures';
import { eventually, jsonRequest, type TestEngine } from '../helpers';
import type { Recorded } from './record-processes';

const NEVER_QUIET: NotifyPolicy = {
  ...DEFAULT_NOTIFY_POLICY,
  quietFromMinute: 0,
  quietToMinute: 0,
  retryInitialSeconds: 0.2,
  retryMaxSeconds: 1,
  smsReportSeconds: 2,
};

export function notifyPaths(e: () => TestEngine): Record<string, () => Promise<Recorded>> {
  const post = async (path: string, token: string, body?: unknown) => {
    const init = jsonRequest('POST', token, body);
    (init.headers as Record<string, string>)['idempotency-key'] = `record-${randomUUID()}`;
    const res = await e().app.request(path, init);
    if (res.status >= 300) throw new Error(`POST ${path} answered ${res.status}`);
    return (await res.json()) as Record<string, any>;
  };
  const start = (
    messageKey: string,
    kind: 'reminder' | 'waitlist-offer',
    patientId: string,
    appointmentId: string | null,
    policy: NotifyPolicy,
  ) =>
    e().client.workflow.execute(notifyWorkflow, {
      workflowId: notifyWorkflowId(messageKey),
      taskQueue: e().config.CLINICAL_TASK_QUEUE,
      args: [
        {
          messageKey,
          kind,
          recipient: { type: 'patient', id: patientId },
          decidedAt: new Date().toISOString(),
          refs: { appointmentId, labOrderId: null, referralId: null },
          policy,
        },
      ],
    });

  return {
    async 'notify-email'() {
      const patientId = await makePatient(e().db);
      await saveContactPoints(
        e().db,
        { type: 'patient', id: patientId },
        [{ channel: 'email', address: 'synthetic@patients.example', consent: true, preferred: true }],
        'recorder',
      );
      const key = `record-${randomUUID()}`;
      await start(key, 'reminder', patientId, null, NEVER_QUIET);
      return { 'notifyWorkflow-email': notifyWorkflowId(key) };
    },

    async 'offer-after-quiet-hours'() {
      const clinic = await makeClinic(e().db, { policy: { offerHoldSeconds: 60 } });
      const registrar = await e().token('registrar', { clinicId: clinic.clinicId });
      const [alice, carol] = [await makePatient(e().db), await makePatient(e().db)];
      await saveContactPoints(
        e().db,
        { type: 'patient', id: carol },
        [{ channel: 'app', address: null, consent: true, preferred: true }],
        'recorder',
      );
      await post('/waitlist', registrar, {
        patientId: carol,
        specialty: clinic.specialty,
        practitionerId: clinic.practitionerId,
        wantedBefore: daysFromNow(30).toISOString(),
      });
      const slot = await makeSlot(e().db, clinic, daysFromNow(3, 8));
      const { id } = await post('/appointments', registrar, { slotId: slot.id, patientId: alice, confirm: true });
      await post(`/appointments/${id}/cancel`, registrar, { reason: 'synthetic test reason' });
      const offer = await eventually(
        () =>
          e()
            .db.selectFrom('appointments')
            .select(['id', 'workflow_id'])
            .where('slot_id', '=', slot.id)
            .where('status', '=', 'offered')
            .executeTakeFirst(),
        60_000,
        'the offer',
      );
      const zone = 'Europe/Moscow';
      const today = localDateTime(new Date(), zone).slice(0, 10);
      const key = `record-${randomUUID()}`;
      await start(key, 'waitlist-offer', carol, offer.id, {
        ...NEVER_QUIET,
        quietFromMinute: 21 * 60,
        quietToMinute: 9 * 60,
        clock: { realEpochMs: Date.now(), localEpochMs: startOfLocalDay(today, zone).getTime() + 23 * 3600_000, scale: 7200 },
      });
      await post(`/appointments/${offer.id}/confirm`, registrar);
      await post(`/appointments/${offer.id}/cancel`, registrar, { reason: 'synthetic test reason' });
      return { 'notifyWorkflow-offer-after-quiet-hours': notifyWorkflowId(key), 'bookingWorkflow-offer-hold-extended': offer.workflow_id };
    },
  };
}
