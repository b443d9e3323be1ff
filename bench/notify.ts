/**
 * `npm run bench:notify`: the delivery path on this machine, against a real SMTP server
 * (`smtp-server`, in this process) and the real engine (throwaway Postgres + Temporal dev server).
 *   1. SMTP deliveries per second at 1 and 32 in flight: the delivery activity itself (its row,
 *      the SMTP conversation, the row marked sent), and end to end (outbox rows → relay → delivery
 *      processes → SMTP).
 *   2. Critical values: p50/p99 from results posted (POST /lab-orders/{id}/results) to the message
 *      in the ordering doctor's inbox, and from the covering step's due time (unacknowledged) to
 *      the covering doctor's message.
 *   3. One real message of each kind, as it arrived at the SMTP server, into docs/notifications-samples.md.
 * Prints a table and one JSON line. Figures, not assertions.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createNotifyActivities } from '../activities/notify';
import { createMailSender } from '../activities/notify-channels';
import { saveContactPoints } from '../db/notify';
import { DEFAULT_NOTIFY_POLICY, MESSAGE_KINDS, STAFF_MESSAGE_KINDS, type MessageKind, type NotifyPolicy } from '../domain/notify';

const toStaff = (kind: MessageKind) => kind.startsWith('critical') || (STAFF_MESSAGE_KINDS as readonly string[]).includes(kind);
import { renderMessage } from '../domain/notify-templates';
import { PROJECT_ROOT } from '../platform/config';
import { createLogger } from '../platform/logger';
import { startTestEngine } from '../tests/helpers';
import { labApi, makeLabClinic, makeLabPatient } from '../tests/lab-fixtures';
import { startSmtpCatcher } from '../tests/notify-doubles';
import { startDeliveryRelay } from '../workers/notify-relay';
import { percentile, startBenchStack } from './stack';

const say = (line: string) => process.stdout.write(`${line}\n`);
const PER_LEVEL = Number(process.env.BENCH_DELIVERIES ?? 300);
const CRITICALS = Number(process.env.BENCH_CRITICALS ?? 30);
const POLICY: NotifyPolicy = {
  ...DEFAULT_NOTIFY_POLICY,
  quietFromMinute: 0,
  quietToMinute: 0,
  retryInitialSeconds: 0.2,
  retryMaxSeconds: 1,
};

async function main() {
  say('starting the stack…');
  const stack = await startBenchStack();
  const smtp = await startSmtpCatcher();
  const engine = await startTestEngine({ configOverrides: { SMTP_URL: smtp.url, PUBLIC_BASE_URL: 'https://clinics.example' } });
  const relay = await startDeliveryRelay({
    db: engine.db,
    client: engine.client,
    taskQueue: engine.config.CLINICAL_TASK_QUEUE,
    databaseUrl: engine.config.DATABASE_URL!,
    policy: POLICY,
    logger: createLogger('relay', 'silent'),
  });
  const results: Record<string, unknown> = {};
  try {
    // 1a. The delivery activity at 1 and 32 in flight.
    const mail = createMailSender({ smtpUrl: smtp.url, from: engine.config.MAIL_FROM });
    const acts = createNotifyActivities({ db: engine.db, mail, sms: null, publicBaseUrl: 'https://clinics.example' });
    const patientId = (
      await engine.db
        .insertInto('patients')
        .values({ full_name: 'Bench Patient', birth_date: '1970-01-01', sex: 'female', phone: null, home_clinic_id: null })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id;
    const message = renderMessage('reminder', {
      link: 'https://clinics.example/patient/inbox',
      visitLocal: '2026-12-09T10:30',
      holdUntilLocal: null,
      clinicName: 'Bench clinic',
    });
    for (const inFlight of [1, 32]) {
      let next = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: inFlight }, async () => {
          for (let i = next++; i < PER_LEVEL; i = next++) {
            await acts.deliverOnChannel({
              messageKey: `bench-${randomUUID()}`,
              kind: 'reminder',
              recipient: { type: 'patient', id: patientId },
              decidedAt: new Date().toISOString(),
              refs: { appointmentId: null, labOrderId: null, referralId: null },
              policy: POLICY,
              channel: 'email',
              address: 'bench@patients.example',
              message,
            });
          }
        }),
      );
      results[`activityPerSecond@${inFlight}`] = +(PER_LEVEL / ((performance.now() - started) / 1000)).toFixed(1);
      say(`activity at ${inFlight} in flight: ${String(results[`activityPerSecond@${inFlight}`])}/s`);
    }
    mail.close();

    // 1b. End to end: rows written by "processes", the relay, one delivery process each, SMTP.
    const patients = await engine.db
      .insertInto('patients')
      .values(
        Array.from({ length: PER_LEVEL }, (_, i) => ({
          full_name: `Bench ${i}`,
          birth_date: '1970-01-01',
          sex: 'male' as const,
          phone: null,
          home_clinic_id: null,
        })),
      )
      .returning('id')
      .execute();
    for (const p of patients)
      await saveContactPoints(
        engine.db,
        { type: 'patient', id: p.id },
        [{ channel: 'email', address: `e2e-${p.id.slice(0, 8)}@patients.example`, consent: true, preferred: true }],
        'bench',
      );
    const before = smtp.messages.length;
    const started = performance.now();
    await engine.db
      .insertInto('notifications')
      .values(
        patients.map((p) => ({ patient_id: p.id, appointment_id: null, kind: 'reminder' as const, dedupe_key: `bench:${randomUUID()}` })),
      )
      .execute();
    const giveUpAt = Date.now() + 600_000;
    while (smtp.messages.length - before < PER_LEVEL) {
      if (Date.now() > giveUpAt) throw new Error(`end to end: ${smtp.messages.length - before} of ${PER_LEVEL} arrived in 10 minutes`);
      await new Promise((r) => setTimeout(r, 50));
    }
    results.endToEndPerSecond = +(PER_LEVEL / ((performance.now() - started) / 1000)).toFixed(1);
    say(`end to end: ${String(results.endToEndPerSecond)}/s`);

    // 2. Critical values: posted → ordering doctor's inbox; covering step due → covering doctor's inbox.
    const clinic = await makeLabClinic(engine.db, { escalateCoveringSeconds: 2, escalateHeadSeconds: 3600 });
    const api = labApi(engine, clinic);
    const toInbox: number[] = [];
    const toCovering: number[] = [];
    for (let i = 0; i < CRITICALS; i++) {
      const created = await api.order(await makeLabPatient(engine.db), ['2823-3'], 'stat');
      await api.collectAndReceive(created.body.id);
      const t0 = Date.now();
      const posted = await api.post(created.body.id, [{ loinc: '2823-3', value: 6.8, unit: 'mmol/L' }]);
      if (posted.status !== 200) throw new Error(`post answered ${posted.status}`);
      const inbox = async (recipient: string, kind: string) => {
        for (;;) {
          const row = await engine.db
            .selectFrom('inbox_messages')
            .select('created_at')
            .where('recipient_id', '=', recipient)
            .where('kind', '=', kind)
            .where('created_at', '>=', new Date(t0))
            .executeTakeFirst();
          if (row) return row.created_at.getTime();
          await new Promise((r) => setTimeout(r, 10));
        }
      };
      toInbox.push((await inbox(clinic.doctorId, 'critical-result')) - t0);
      const coveredAt = await inbox(clinic.coveringId, 'critical-escalation-covering');
      const ordering = await engine.db
        .selectFrom('lab_critical_notifications')
        .select('notified_at')
        .where('lab_order_id', '=', created.body.id)
        .where('step', '=', 'ordering')
        .executeTakeFirstOrThrow();
      toCovering.push(coveredAt - (ordering.notified_at.getTime() + 2000));
      await engine.client.workflow.getHandle(`lab-order-${created.body.id}`).terminate('bench done');
    }
    results.criticalToInboxMs = { p50: percentile(toInbox, 50), p99: percentile(toInbox, 99), n: toInbox.length };
    results.coveringDueToInboxMs = { p50: percentile(toCovering, 50), p99: percentile(toCovering, 99), n: toCovering.length };

    // 3. One message of each kind through nodemailer to the SMTP server, kept as it arrived.
    const sampleMail = createMailSender({ smtpUrl: smtp.url, from: engine.config.MAIL_FROM });
    const samples: string[] = [];
    for (const kind of MESSAGE_KINDS) {
      const m = renderMessage(kind, {
        link: toStaff(kind) ? 'https://clinics.example/doctor/inbox' : 'https://clinics.example/patient/inbox',
        visitLocal: '2026-12-09T10:30',
        holdUntilLocal: '2026-12-08T12:00',
        clinicName: 'Поликлиника № 1',
      });
      const key = `sample-${kind}:email`;
      await sampleMail.send({
        to: `${kind}@patients.example`,
        subject: m.subject,
        text: m.text,
        messageId: `<${randomUUID()}@clinic.local>`,
        deliveryKey: key,
      });
      const arrived = smtp.messages.find((x) => x.headers['x-delivery-key'] === key)!;
      samples.push(
        [
          `## ${kind}`,
          '',
          `SMS text: \`${m.sms}\``,
          '',
          `Decoded: **${arrived.headers.subject}**`,
          '',
          '```text',
          arrived.text.replace(/\r\n/g, '\n').trimEnd(),
          '```',
          '',
          'Raw, as it arrived:',
          '',
          '```text',
          arrived.raw.replace(/\r\n/g, '\n').trimEnd(),
          '```',
          '',
        ].join('\n'),
      );
    }
    sampleMail.close();
    writeFileSync(
      path.join(PROJECT_ROOT, 'docs', 'notifications-samples.md'),
      `# One message of each kind, as it arrived at the SMTP server\n\nWritten by \`npm run bench:notify\` (nodemailer → \`smtp-server\`), first decoded (subject and text), then raw as received (UTF-8, quoted-printable). Russian first, then English; no diagnosis or values. The SMS text of the same message is shown above each.\n\n${samples.join('\n')}`,
    );

    say('| figure | value |');
    say('| --- | --- |');
    for (const [k, v] of Object.entries(results)) say(`| ${k} | ${typeof v === 'object' ? JSON.stringify(v) : v} |`);
    say(JSON.stringify(results));
  } finally {
    await relay.close();
    await engine.stop();
    await smtp.close();
    await stack.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
