/**
 * A crowd for one slot: Postgres lets exactly one booking through, and every other client hears
 * a clear 409 `slot_taken` (never a 503 from queueing behind the winner), with one appointment
 * and one outbox row behind the single 201.
 */
import { randomUUID } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import { holdSlotTx } from '../commands/booking-rows';
import { bookingPolicy } from '../db/booking';
import type { Database } from '../db/schema';
import { nameUuid } from '../domain/ids';
import { bookingWorkflowId } from '../workflows/booking';
import { daysFromNow, makeClinic, makePatient, makeSlot } from './fixtures';
import { jsonRequest, startTestEngine, type TestEngine } from './helpers';

let engine: TestEngine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(async () => {
  await engine.stop();
});

type Json = Record<string, any>;

describe('a race for one slot', () => {
  test('100 clients book the same slot at once: one 201, 99 × 409 slot_taken, one appointment and one outbox row', async () => {
    const clinic = await makeClinic(engine.db);
    const slot = await makeSlot(engine.db, clinic, daysFromNow(9, 10));
    const patients = await Promise.all(Array.from({ length: 100 }, () => makePatient(engine.db)));
    const token = await engine.token('registrar', { clinicId: clinic.clinicId });
    const keys = patients.map(() => `race-${randomUUID()}`);
    const answers = await Promise.all(
      patients.map(async (patientId, i) => {
        const init = jsonRequest('POST', token, { slotId: slot.id, patientId });
        (init.headers as Record<string, string>)['idempotency-key'] = keys[i]!;
        const res = await engine.app.request('/appointments', init);
        return { status: res.status, body: (await res.json()) as Json };
      }),
    );

    const won = answers.filter((a) => a.status === 201);
    expect(won).toHaveLength(1);
    const lost = answers.filter((a) => a.status !== 201);
    expect(lost.map((a) => `${a.status} ${a.body.error?.code}`)).toEqual(Array(99).fill('409 slot_taken'));

    const rows = await engine.db.selectFrom('appointments').select(['id', 'patient_id', 'status']).where('slot_id', '=', slot.id).execute();
    const winner = patients[answers.indexOf(won[0]!)]!;
    expect(rows).toEqual([{ id: won[0]!.body.id, patient_id: winner, status: 'held' }]);

    // The request keys name every client's appointment (and process): only the winner's has an outbox row.
    const workflowIds = keys.map((key) => bookingWorkflowId(nameUuid('booking', `test-registrar:${key}`)));
    const outbox = await engine.db
      .selectFrom('process_outbox')
      .select(['workflow_id', 'kind', 'subject_id'])
      .where('workflow_id', 'in', workflowIds)
      .execute();
    expect(outbox).toEqual([{ workflow_id: bookingWorkflowId(won[0]!.body.id), kind: 'start', subject_id: won[0]!.body.id }]);
  });

  test('the winner sending its request again is answered its booking, not slot_taken', async () => {
    const clinic = await makeClinic(engine.db);
    const slot = await makeSlot(engine.db, clinic, daysFromNow(9, 11));
    const [first, second] = [await makePatient(engine.db), await makePatient(engine.db)];
    const token = await engine.token('registrar', { clinicId: clinic.clinicId });
    const book = async (patientId: string, key: string) => {
      const init = jsonRequest('POST', token, { slotId: slot.id, patientId });
      (init.headers as Record<string, string>)['idempotency-key'] = key;
      const res = await engine.app.request('/appointments', init);
      return { status: res.status, body: (await res.json()) as Json };
    };
    const key = `race-${randomUUID()}`;
    const held = await book(first, key);
    expect(held).toMatchObject({ status: 201, body: { status: 'held', patientId: first } });
    expect(await book(second, `race-${randomUUID()}`)).toMatchObject({ status: 409, body: { error: { code: 'slot_taken' } } });
    expect(await book(first, key)).toMatchObject({ status: 201, body: { id: held.body.id, status: 'held' } });
    const outbox = await engine.db.selectFrom('process_outbox').select('kind').where('subject_id', '=', held.body.id).execute();
    expect(outbox).toEqual([{ kind: 'start' }]);
  });

  test('a booking while another is still writing the slot is refused slot_taken at once; its rollback frees the slot', async () => {
    const clinic = await makeClinic(engine.db);
    const slot = await makeSlot(engine.db, clinic, daysFromNow(9, 12));
    const [writer, other] = [await makePatient(engine.db), await makePatient(engine.db)];
    const token = await engine.token('registrar', { clinicId: clinic.clinicId });
    const book = async (patientId: string) => {
      const init = jsonRequest('POST', token, { slotId: slot.id, patientId });
      (init.headers as Record<string, string>)['idempotency-key'] = `race-${randomUUID()}`;
      const res = await engine.app.request('/appointments', init);
      return { status: res.status, body: (await res.json()) as Json };
    };
    const policy = await bookingPolicy(engine.db, clinic.clinicId);
    const whileWriting = await engine.db.connection().execute(async (conn) => {
      // Another booking of the slot, written but not committed: it holds the slot's lock and its index entry.
      await sql`BEGIN`.execute(conn);
      const id = randomUUID();
      const input = { appointmentId: id, workflowId: `booking-${id}`, patientId: writer, slotId: slot.id, bookedBy: 'test', policy };
      await holdSlotTx(conn as unknown as Transaction<Database>, input);
      try {
        // (Waiting on the uncommitted entry instead would end in the lock timeout: 503.)
        return await book(other);
      } finally {
        await sql`ROLLBACK`.execute(conn);
      }
    });
    expect(whileWriting).toMatchObject({ status: 409, body: { error: { code: 'slot_taken' } } });
    expect(await engine.db.selectFrom('appointments').select('id').where('slot_id', '=', slot.id).execute()).toEqual([]);
    const after = await book(other);
    expect(after).toMatchObject({ status: 201, body: { status: 'held', patientId: other, slotId: slot.id } });
  });
});
