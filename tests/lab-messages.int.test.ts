/**
 * Inbound lab messages judged whole, on HTTP and MLLP: the patient named must be the order's, a
 * control id names one message per sender, a large message is taken whole, a refusal leaves the
 * connection usable, and what cannot be matched waits for a lab supervisor.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { serve } from '@hono/node-server';
import { startMllpServer, type MllpServer } from '../api/lab-messages/mllp';
import { createLogger } from '../platform/logger';
import { freePort } from '../platform/ports';
import { startTestEngine, type TestEngine } from './helpers';
import { labApi, makeLabClinic, makeLabPatient, oru, type LabClinic } from './lab-fixtures';

let engine: TestEngine;
let clinic: LabClinic;
let api: ReturnType<typeof labApi>;
let mllp: MllpServer;
const FACILITY = `LAB${randomUUID().slice(0, 6).toUpperCase()}`;
beforeAll(async () => {
  engine = await startTestEngine();
  clinic = await makeLabClinic(engine.db);
  api = labApi(engine, clinic);
  mllp = await startMllpServer(
    { db: engine.db, temporal: engine.client, logger: createLogger('mllp', 'silent') },
    { port: await freePort(), senders: { [FACILITY]: clinic.clinicId }, peers: ['loopback'] },
  );
});
afterAll(async () => {
  await mllp?.stop();
  await engine.stop();
});

const K = (value: string, status = 'F') => `NM|2823-3^Potassium^LN||${value}|mmol/L|3.5-5.1|N|||${status}`;
const msa = (ack: string) => ack.split('\r').find((s) => s.startsWith('MSA|'))!;
const versions = (orderId: string) =>
  engine.db
    .selectFrom('lab_result_versions')
    .select(['loinc', 'version', 'value', 'status', 'source'])
    .where('lab_order_id', '=', orderId)
    .orderBy('loinc')
    .orderBy('version')
    .execute();
const message = (id: string) => engine.db.selectFrom('lab_messages').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const messagesByControlId = (controlId: string) =>
  engine.db.selectFrom('lab_messages').selectAll().where('control_id', '=', controlId).orderBy('received_at').execute();

async function receivedOrder(tests = ['2823-3']) {
  const patientId = await makeLabPatient(engine.db);
  const created = await api.order(patientId, tests, 'stat');
  expect(created.status).toBe(201);
  await api.collectAndReceive(created.body.id);
  return { orderId: created.body.id as string, patientId };
}

describe('who the message is about', () => {
  test("a message naming another patient is refused (AE with ERR), files nothing, and waits for a supervisor, who attaches it to that patient's order", async () => {
    const mine = await receivedOrder();
    const theirs = await receivedOrder();
    const control = `ID-${randomUUID().slice(0, 8)}`;
    const res = await api.hl7(oru(mine.orderId, [K('4.4')], control, theirs.patientId));
    expect(res.status).toBe(422);
    expect(msa(res.body)).toMatch(new RegExp(`^MSA\\|AE\\|${control}\\|patient_mismatch`));
    expect(res.body).toMatch(/\rERR\|\|PID\^1\^3\|204\^Unknown key identifier\^HL70357\|E/);
    expect(await versions(mine.orderId)).toEqual([]);
    expect(await versions(theirs.orderId)).toEqual([]);

    const queue = await api.call('GET', '/lab-messages/unmatched', await api.labToken());
    const queued = queue.body.messages.find((m: { controlId: string }) => m.controlId === control);
    expect(queued).toMatchObject({
      transport: 'http',
      sendingFacility: 'CITYLAB',
      placerOrderId: mine.orderId,
      pid: { identifiers: [theirs.patientId] },
      results: 1,
    });
    const other = await makeLabClinic(engine.db);
    const foreign = await api.call('GET', '/lab-messages/unmatched', await api.labToken(other.clinicId));
    expect(foreign.body.messages.some((m: { id: string }) => m.id === queued.id)).toBe(false);
    expect(
      (await api.call('POST', `/lab-messages/${queued.id}/reject`, await api.labToken(other.clinicId), { reason: 'other' })).status,
    ).toBe(403);

    // Attached to the order it names, the identity still does not hold: nothing is filed and it stays queued.
    const wrong = await api.call('POST', `/lab-messages/${queued.id}/attach`, await api.labToken(), { orderId: mine.orderId });
    expect([wrong.status, wrong.body.error.code, wrong.body.error.details[0].code]).toEqual([422, 'message_not_whole', 'patient_mismatch']);
    const attached = await api.call('POST', `/lab-messages/${queued.id}/attach`, await api.labToken(), { orderId: theirs.orderId });
    expect(attached).toMatchObject({
      status: 200,
      body: { status: 'attached', labOrderId: theirs.orderId, answer: expect.stringMatching(/^recorded 1/) },
    });
    expect(await versions(theirs.orderId)).toEqual([expect.objectContaining({ loinc: '2823-3', value: 4.4, source: 'hl7v2' })]);
    expect(await versions(mine.orderId)).toEqual([]);
    expect((await api.call('POST', `/lab-messages/${queued.id}/attach`, await api.labToken(), { orderId: theirs.orderId })).status).toBe(
      409,
    );

    const audit = await engine.db
      .selectFrom('audit_log')
      .select(['actor', 'action', 'details'])
      .where('entity', '=', 'lab_message')
      .where('entity_id', '=', queued.id)
      .execute();
    expect(audit).toEqual([
      {
        actor: `lab-${clinic.clinicId.slice(0, 8)}`,
        action: 'write',
        details: expect.objectContaining({ resolution: 'attached', labOrderId: theirs.orderId, patientId: theirs.patientId }),
      },
    ]);
    const ops = await api.call('GET', '/lab-messages/resolutions', await engine.token('ops'));
    const seen = ops.body.resolutions.find((r: { id: string }) => r.id === queued.id);
    expect(seen).toEqual({
      id: queued.id,
      receivedAt: expect.any(String),
      transport: 'http',
      sendingFacility: 'CITYLAB',
      clinicId: clinic.clinicId,
      controlId: control,
      resolution: 'attached',
      reason: null,
      resolvedBy: `lab-${clinic.clinicId.slice(0, 8)}`,
      resolvedAt: expect.any(String),
      labOrderId: theirs.orderId,
    });
    expect(JSON.stringify(ops.body)).not.toContain(theirs.patientId);
  });

  test('a message for an unknown order is queued, and a supervisor rejects it with a reason', async () => {
    const control = `ID-${randomUUID().slice(0, 8)}`;
    const res = await api.hl7(oru(randomUUID(), [K('4.0')], control));
    expect(msa(res.body)).toMatch(/^MSA\|AE\|[^|]+\|unknown_order/);
    const row = (await messagesByControlId(control))[0]!;
    expect(row).toMatchObject({ status: 'unmatched', ack_code: 'AE', ack: res.body, clinic_id: clinic.clinicId });
    const rejected = await api.call('POST', `/lab-messages/${row.id}/reject`, await api.labToken(), { reason: 'unknown_order' });
    expect(rejected).toMatchObject({ status: 200, body: { status: 'rejected', labOrderId: null } });
    expect(await message(row.id)).toMatchObject({
      status: 'rejected',
      resolution: 'rejected',
      resolution_reason: 'unknown_order',
      resolved_by: `lab-${clinic.clinicId.slice(0, 8)}`,
    });
  });
});

describe('control ids', () => {
  test('a different message under a used control id is refused (AE), never AA; an identical resend gets the very same ACK and is filed once', async () => {
    const { orderId, patientId } = await receivedOrder();
    const control = `ID-${randomUUID().slice(0, 8)}`;
    const first = await api.hl7(oru(orderId, [K('4.2')], control, patientId));
    expect([first.status, msa(first.body)]).toEqual([200, `MSA|AA|${control}|recorded 1, duplicates 0; order final`]);
    const changed = await api.hl7(oru(orderId, [K('5.9', 'C')], control, patientId));
    expect([changed.status, msa(changed.body)]).toEqual([
      422,
      expect.stringMatching(new RegExp(`^MSA\\|AE\\|${control}\\|control_id_reused`)),
    ]);
    expect(changed.body).toContain('205^Duplicate key identifier^HL70357');
    const resent = await api.hl7(oru(orderId, [K('4.2')], control, patientId));
    expect([resent.status, resent.body]).toEqual([200, first.body]);
    expect((await versions(orderId)).map((v) => [v.version, v.value, v.status])).toEqual([[1, 4.2, 'final']]);
    expect((await messagesByControlId(control)).map((m) => [m.status, m.ack_code])).toEqual([
      ['filed', 'AA'],
      ['refused', 'AE'],
      ['resent', 'AA'],
    ]);

    // Control ids are the sender's own: another facility may use the same one.
    const elsewhere = await api.hl7(oru(orderId, [K('5.9', 'C')], control, patientId, 'OTHERLAB'));
    expect(msa(elsewhere.body)).toMatch(/^MSA\|AA\|/);
  });

  test('a correction (OBX-11 C) becomes an amendment of the reported result, the order going to its next round', async () => {
    const { orderId, patientId } = await receivedOrder();
    expect(msa((await api.hl7(oru(orderId, [K('4.2')], undefined, patientId))).body)).toMatch(/^MSA\|AA\|/);
    const corrected = await api.hl7(oru(orderId, [K('3.1', 'C')], undefined, patientId));
    expect(msa(corrected.body)).toMatch(/^MSA\|AA\|[^|]+\|recorded 1, duplicates 0, corrections 1; order final$/);
    expect((await versions(orderId)).map((v) => [v.version, v.value, v.status])).toEqual([
      [1, 4.2, 'final'],
      [2, 3.1, 'corrected'],
    ]);
    expect((await engine.db.selectFrom('lab_orders').select('round').where('id', '=', orderId).executeTakeFirstOrThrow()).round).toBe(2);
  });
});

describe('size', () => {
  test('a 200 KB message is taken whole: every OBX recorded, none cut off', async () => {
    const lipids = ['2093-3', '13457-7', '2085-9', '2571-8'];
    const { orderId, patientId } = await receivedOrder(['24331-1']);
    const obx = [
      `NM|2093-3^Chol^LN||5.5|mmol/L|||||F`,
      `NM|13457-7^LDL^LN||3.1|mmol/L|||||F`,
      `NM|2085-9^HDL^LN||1.2|mmol/L|||||F`,
      `NM|2571-8^TG^LN||1.5|mmol/L|||||F`,
    ];
    const text = oru(orderId, obx, undefined, patientId).replace(
      /\rOBX\|4\|/,
      `\r${Array.from({ length: 210 }, (_, i) => `NTE|${i + 1}||${'comment '.repeat(120)}`).join('\r')}\rOBX|4|`,
    );
    expect(text.length).toBeGreaterThan(200_000);
    const res = await api.hl7(text);
    expect([res.status, msa(res.body)]).toEqual([200, expect.stringMatching(/^MSA\|AA\|[^|]+\|recorded 4, duplicates 0; order final$/)]);
    expect((await versions(orderId)).map((v) => v.loinc).sort()).toEqual([...lipids].sort());
  });

  test('after a 413 on the HL7 route the same keep-alive client goes on: its next request is answered', async () => {
    const { orderId, patientId } = await receivedOrder();
    const server = serve({ fetch: engine.app.fetch, hostname: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    const port = (server.address() as net.AddressInfo).port;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const token = await api.labToken();
    const post = (body: Buffer) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request(
          {
            host: '127.0.0.1',
            port,
            method: 'POST',
            path: '/lab-results/hl7v2',
            agent,
            headers: { authorization: `Bearer ${token}`, 'content-type': 'x-application/hl7-v2+er7', 'content-length': body.length },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString() }));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    try {
      const big = await post(Buffer.alloc(2 * 1024 * 1024, 'x'));
      expect(big.status).toBe(413);
      const next = await post(Buffer.from(oru(orderId, [K('4.1')], undefined, patientId)));
      expect([next.status, msa(next.body)]).toEqual([200, expect.stringMatching(/^MSA\|AA\|/)]);
    } finally {
      agent.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

/** A real TCP client speaking MLLP: one frame out, the framed ACK back. */
class MllpClient {
  private buffer = Buffer.alloc(0);
  private waiting: Array<(ack: string) => void> = [];
  constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      for (let end = this.buffer.indexOf('\x1c\r'); end >= 0; end = this.buffer.indexOf('\x1c\r')) {
        const frame = this.buffer.subarray(this.buffer.indexOf(0x0b) + 1, end).toString();
        this.buffer = this.buffer.subarray(end + 2);
        this.waiting.shift()?.(frame);
      }
    });
  }

  static connect(port: number): Promise<MllpClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(new MllpClient(socket)));
      socket.once('error', reject);
    });
  }

  send(text: string): Promise<string> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.socket.write(Buffer.concat([Buffer.from([0x0b]), Buffer.from(text), Buffer.from([0x1c, 0x0d])]));
    });
  }

  get open() {
    return !this.socket.destroyed;
  }
  close() {
    this.socket.destroy();
  }
}

describe('MLLP', () => {
  test('a framed ORU gets a framed AA; a bad one AR on the same connection; then a good one AA again', async () => {
    const { orderId, patientId } = await receivedOrder(['2823-3', '2951-2']);
    const client = await MllpClient.connect(mllp.port);
    try {
      const first = await client.send(oru(orderId, [K('4.3', 'P')], undefined, patientId, FACILITY));
      expect(first.split('\r')[0]).toMatch(
        new RegExp(`^MSH\\|\\^~\\\\&\\|ENGINE\\|PC\\|LIS\\|${FACILITY}\\|[^|]+\\|\\|ACK\\^R01\\^ACK\\|`),
      );
      expect(msa(first)).toMatch(/^MSA\|AA\|[^|]+\|recorded 1, duplicates 0; order resulted$/);
      const bad = await client.send('MSH|^~\\&|LIS|X|ENGINE|PC|20261126||ORU^R01|M-BAD|P|2.5.1\rOBX|1|NM|2823-3^K^LN||4|mmol/L');
      expect(msa(bad)).toMatch(/^MSA\|AR\|M-BAD\|segment_count/);
      expect(client.open).toBe(true);
      const again = await client.send(oru(orderId, [K('4.3'), 'NM|2951-2^Na^LN||140|mmol/L|||||F'], undefined, patientId, FACILITY));
      expect(msa(again)).toMatch(/^MSA\|AA\|[^|]+\|recorded 2, duplicates 0; order final$/);
    } finally {
      client.close();
    }
    const rows = await engine.db
      .selectFrom('lab_messages')
      .select(['transport', 'peer', 'sending_facility', 'status', 'ack_code', 'sha256'])
      .where('placer_order_id', '=', orderId)
      .orderBy('received_at')
      .execute();
    expect(rows.map((r) => [r.transport, r.sending_facility, r.status, r.ack_code])).toEqual([
      ['mllp', FACILITY, 'filed', 'AA'],
      ['mllp', FACILITY, 'filed', 'AA'],
    ]);
    expect(rows[0]!.peer).toMatch(/127\.0\.0\.1/);
  });

  test('a sender not configured is refused (AR) and nothing is filed; its connection stays open', async () => {
    const { orderId, patientId } = await receivedOrder();
    const client = await MllpClient.connect(mllp.port);
    try {
      const ack = await client.send(oru(orderId, [K('4.3')], undefined, patientId, 'STRANGER'));
      expect(msa(ack)).toMatch(/^MSA\|AR\|[^|]+\|untrusted_sender/);
      expect(await versions(orderId)).toEqual([]);
      expect(msa(await client.send('garbage without a header'))).toMatch(/^MSA\|AR\|\|not_hl7/);
      expect(client.open).toBe(true);
    } finally {
      client.close();
    }
  });
});
