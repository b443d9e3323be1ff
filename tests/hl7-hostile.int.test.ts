/**
 * The hostile run: at least 5,000 generated ORU^R01 variants (seeded) through both transports,
 * HTTP and MLLP, at once: segments shuffled or missing, fields cut, wrong types and units, another
 * patient, unknown orders, reused control ids, huge messages, control bytes. It asserts and prints
 * 0 × 5xx, 0 × AA for a message that is not whole and valid, and 0 results filed to another
 * patient (read back from Postgres); the valid controls among them must all be AA.
 */
import { createHash, randomUUID } from 'node:crypto';
import net from 'node:net';
import { startMllpServer, type MllpServer } from '../api/lab-messages/mllp';
import { readOru } from '../domain/hl7-intake';
import { createLogger } from '../platform/logger';
import { freePort } from '../platform/ports';
import { startTestEngine, type TestEngine } from './helpers';
import { breakers, huge, keepers, seeded, validSegments, type HostileOrder, type Variant } from './hl7-hostile-generator';
import { labApi, makeLabClinic, type LabClinic } from './lab-fixtures';

const SEED = Number(process.env.HL7_HOSTILE_SEED ?? 20261207);
/** Messages in all: generated variants, then 150 identical resends and 150 reused control ids. */
const VARIANTS = Number(process.env.HL7_HOSTILE_COUNT ?? 5000);
const REUSED = 150;
const FACILITY = `HOSTILE${randomUUID().slice(0, 4).toUpperCase()}`;

let engine: TestEngine;
let clinic: LabClinic;
let mllp: MllpServer;
beforeAll(async () => {
  engine = await startTestEngine();
  clinic = await makeLabClinic(engine.db);
  mllp = await startMllpServer(
    { db: engine.db, temporal: engine.client, logger: createLogger('mllp', 'silent') },
    { port: await freePort(), senders: { [FACILITY]: clinic.clinicId }, peers: ['loopback'] },
  );
}, 120_000);
afterAll(async () => {
  await mllp?.stop();
  await engine?.stop();
});

async function makeOrders(c: LabClinic, n: number, receive: boolean, tag: string): Promise<HostileOrder[]> {
  const api = labApi(engine, c);
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const familyName = `Враждебнов${tag}${i}`;
      const birthDate = `19${50 + i}-0${1 + (i % 9)}-1${i % 10}`;
      const patient = await engine.db
        .insertInto('patients')
        .values({ full_name: `${familyName} Hostile Testovich`, birth_date: birthDate, sex: 'male', phone: null, home_clinic_id: null })
        .returning('id')
        .executeTakeFirstOrThrow();
      const created = await api.order(patient.id, ['2823-3', '2951-2'], 'stat');
      if (created.status !== 201) throw new Error(`order: ${created.status}`);
      if (receive) await api.collectAndReceive(created.body.id);
      return { orderId: created.body.id, patientId: patient.id, familyName, birthDate };
    }),
  );
}

/** One MLLP connection: frames out one at a time, each framed ACK read back. */
async function mllpConnection(port: number) {
  const socket = net.connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let buffer = Buffer.alloc(0);
  let waiting: ((ack: string | null) => void) | undefined;
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    const end = buffer.indexOf('\x1c\r');
    if (end >= 0) {
      const frame = buffer.subarray(buffer.indexOf(0x0b) + 1, end).toString();
      buffer = buffer.subarray(end + 2);
      waiting?.(frame);
    }
  });
  socket.on('close', () => waiting?.(null));
  return {
    send: (bytes: Buffer) =>
      new Promise<string | null>((resolve) => {
        waiting = resolve;
        socket.write(Buffer.concat([Buffer.from([0x0b]), bytes, Buffer.from([0x1c, 0x0d])]));
      }),
    get closed() {
      return socket.destroyed;
    },
    close: () => socket.destroy(),
  };
}

interface Outcome {
  variant: Variant;
  transport: 'http' | 'mllp';
  status: number | null;
  ack: string | null;
  code: string;
}

const msaCode = (ack: string | null) => /(?:^|\r)MSA\|(AA|AE|AR)\|/.exec(ack ?? '')?.[1] ?? 'none';

test('5,000+ malformed and hostile ORU variants over HTTP and MLLP: no 5xx, no AA for a message that is not whole, nothing filed to another patient', async () => {
  const rng = seeded(SEED);
  const other = await makeLabClinic(engine.db);
  const [live, decoys, unready, foreign] = await Promise.all([
    makeOrders(clinic, 16, true, 'L'),
    makeOrders(clinic, 8, true, 'D'),
    makeOrders(clinic, 2, false, 'U'),
    makeOrders(other, 2, true, 'F'),
  ]);
  const everyone = [...live, ...decoys, ...unready, ...foreign];
  const breaks = breakers(rng, () => rng.pick(everyone));
  const keeps = keepers(rng);
  const breakNames = Object.keys(breaks);
  const secondary = ['shuffled', 'garbage-segment', 'wrong-unit', 'cut-field-value'];
  const variant = (kind: string, valid: boolean, order: HostileOrder, segments: string[], controlId: string): Variant => ({
    kind,
    valid,
    bytes: Buffer.from(segments.join('\r')),
    controlId,
    orderId: order.orderId,
  });

  // Phase 1: every message under its own control id.
  const phase1: Variant[] = [];
  for (let i = 0; i < VARIANTS - 2 * REUSED - 9; i++) {
    const controlId = `H${SEED}-${i}`;
    const roll = rng.next();
    if (roll < 0.08) {
      const order = rng.pick(live);
      const kind = rng.pick(Object.keys(keeps));
      phase1.push(variant(kind, true, order, keeps[kind]!(validSegments(order, controlId, FACILITY, rng)), controlId));
    } else if (roll < 0.1) {
      const order = rng.pick([...unready, ...foreign]);
      phase1.push(
        variant(
          unready.includes(order) ? 'order-not-received' : 'other-clinic-order',
          false,
          order,
          validSegments(order, controlId, FACILITY, rng),
          controlId,
        ),
      );
    } else {
      const order = rng.pick(rng.next() < 0.5 ? live : decoys);
      const names = [rng.pick(breakNames), ...(rng.next() < 0.3 ? [rng.pick(secondary)] : [])];
      const segments = names.reduce((s, n) => breaks[n]!(s), validSegments(order, controlId, FACILITY, rng));
      phase1.push(variant(names.join('+'), false, order, segments, controlId));
    }
  }
  for (let i = 0; i < 6; i++) {
    const order = rng.pick(live);
    const controlId = `H${SEED}-huge-${i}`;
    phase1.push(variant('huge-over-limit', false, order, huge(validSegments(order, controlId, FACILITY, rng), 1_200_000), controlId));
  }
  for (let i = 0; i < 3; i++) {
    const order = rng.pick(live);
    const controlId = `H${SEED}-big-${i}`;
    phase1.push(variant('valid-900kb', true, order, huge(validSegments(order, controlId, FACILITY, rng), 900_000), controlId));
  }

  const transports: Array<'http' | 'mllp'> = phase1.map(() => (rng.next() < 0.5 ? 'http' : 'mllp'));
  const token = await labApi(engine, clinic).labToken();
  const outcomes: Outcome[] = [];
  const conns = await Promise.all(Array.from({ length: 4 }, () => mllpConnection(mllp.port)));
  const sendHttp = async (v: Variant): Promise<Outcome> => {
    const res = await engine.app.request('/lab-results/hl7v2', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'x-application/hl7-v2+er7' },
      body: v.bytes,
    });
    const body = await res.text();
    const ack = res.headers.get('content-type')?.includes('hl7') ? body : null;
    return { variant: v, transport: 'http', status: res.status, ack, code: ack ? msaCode(ack) : String(res.status) };
  };
  const run = async (list: Variant[], via: Array<'http' | 'mllp'>) => {
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < list.length; i = next++)
        outcomes.push(via[i] === 'http' ? await sendHttp(list[i]!) : await sendMllp(list[i]!, conns[i % conns.length]!));
    };
    await Promise.all(Array.from({ length: 12 }, worker));
  };
  // One frame in flight per connection: a connection's ACKs come back in order.
  const locks = new Map<object, Promise<unknown>>();
  const sendMllp = async (v: Variant, conn: (typeof conns)[number]): Promise<Outcome> => {
    const prior = locks.get(conn) ?? Promise.resolve();
    const mine = prior.then(() => conn.send(v.bytes));
    locks.set(
      conn,
      mine.catch(() => undefined),
    );
    const ack = await mine;
    return { variant: v, transport: 'mllp', status: null, ack, code: msaCode(ack) };
  };

  const started = performance.now();
  await run(phase1, transports);

  // Phase 2: control ids used again, identical (the first ACK again) or with another message (AE).
  const firstAck = new Map(outcomes.filter((o) => o.variant.valid && o.code === 'AA').map((o) => [o.variant.controlId, o]));
  const reused = [...firstAck.values()].slice(0, REUSED);
  const phase2: Variant[] = reused.flatMap((o, i) => {
    const order = live.find((x) => x.orderId === o.variant.orderId)!;
    const changed = [...validSegments(order, o.variant.controlId, FACILITY, rng), `NTE|1||changed ${i}`];
    return [{ ...o.variant, kind: 'identical-resend' }, variant('reused-control-id', false, order, changed, o.variant.controlId)];
  });
  const p2Start = outcomes.length;
  await run(
    phase2,
    phase2.map(() => (rng.next() < 0.5 ? 'http' : 'mllp')),
  );
  const seconds = (performance.now() - started) / 1000;
  // Every refusal left its connection open.
  const closedByServer = conns.filter((c) => c.closed).length;
  for (const c of conns) c.close();

  // The figures.
  const count = <K extends string>(xs: Outcome[], key: (o: Outcome) => K) =>
    xs.reduce<Record<string, number>>((acc, o) => ({ ...acc, [key(o)]: (acc[key(o)] ?? 0) + 1 }), {});
  const total = outcomes.length;
  const byKind = count(outcomes, (o) => `${o.variant.kind.split('+')[0]}:${o.code}`);
  console.log(
    [
      `hl7 hostile run (seed ${SEED}): ${total} messages in ${seconds.toFixed(1)} s = ${(total / seconds).toFixed(0)} messages/s`,
      `  per transport: ${JSON.stringify(count(outcomes, (o) => o.transport))}`,
      `  per answer:    ${JSON.stringify(count(outcomes, (o) => o.code))}`,
      `  per transport and answer: ${JSON.stringify(count(outcomes, (o) => `${o.transport}:${o.code}`))}`,
      `  valid controls: ${outcomes.filter((o) => o.variant.valid).length}; not whole or not valid: ${outcomes.filter((o) => !o.variant.valid).length}`,
      `  per kind:      ${JSON.stringify(Object.fromEntries(Object.entries(byKind).sort()))}`,
    ].join('\n'),
  );

  const serverErrors = outcomes.filter((o) => (o.status ?? 0) >= 500 || (o.transport === 'mllp' && o.code === 'none'));
  const wrongAa = outcomes.filter((o) => !o.variant.valid && o.code === 'AA');
  const refusedValid = outcomes.filter((o) => o.variant.valid && o.code !== 'AA');
  const notSameAck = outcomes
    .slice(p2Start)
    .filter((o) => o.variant.kind === 'identical-resend' && o.ack !== firstAck.get(o.variant.controlId)!.ack);
  console.log(
    `  5xx or unanswered: ${serverErrors.length}; AA for a message not whole: ${wrongAa.length}; valid refused: ${refusedValid.length}; resends answered differently: ${notSameAck.length}`,
  );

  // Nothing filed to another patient: every filed message's PID-3 names its order's patient, and orders that got only broken messages have no results.
  const filed = await engine.db
    .selectFrom('lab_messages as m')
    .innerJoin('lab_orders as o', 'o.id', 'm.lab_order_id')
    .select(['m.raw', 'o.patient_id'])
    .where('m.status', '=', 'filed')
    .where('m.sending_facility', '=', FACILITY)
    .execute();
  const misfiled = filed.filter((r) => {
    const read = readOru(r.raw.toString('utf8'), r.raw.length);
    return !read.ok || !read.message.patientIds.includes(r.patient_id);
  });
  const decoyResults = await engine.db
    .selectFrom('lab_result_versions')
    .select('lab_order_id')
    .where(
      'lab_order_id',
      'in',
      [...decoys, ...unready, ...foreign].map((o) => o.orderId),
    )
    .execute();
  // Every message that reached the intake (all but the 413s) is kept raw, by its hash.
  const sent = [
    ...new Set(outcomes.filter((o) => o.code !== '413').map((o) => createHash('sha256').update(o.variant.bytes).digest('hex'))),
  ];
  const keptRows = await engine.db.selectFrom('lab_messages').select('sha256').distinct().where('sha256', 'in', sent).execute();
  const stored = { n: keptRows.length };
  console.log(
    `  filed messages: ${filed.length}, filed to another patient: ${misfiled.length}; results on orders sent only broken messages: ${decoyResults.length}; distinct messages sent to the intake: ${sent.length}, kept raw: ${stored.n}`,
  );

  expect(serverErrors.map((o) => `${o.transport} ${o.variant.kind} ${o.code}`)).toEqual([]);
  expect(wrongAa.map((o) => `${o.transport} ${o.variant.kind} ${JSON.stringify(o.variant.bytes.toString().slice(0, 600))}`)).toEqual([]);
  expect(refusedValid.map((o) => `${o.transport} ${o.variant.kind} ${o.code} ${(o.ack ?? '').split('\r')[1]}`)).toEqual([]);
  expect(notSameAck.length).toBe(0);
  expect(misfiled.length).toBe(0);
  expect(decoyResults).toEqual([]);
  expect(stored.n).toBe(sent.length);
  expect(closedByServer).toBe(0);
  expect(total).toBeGreaterThanOrEqual(5000);
}, 600_000);
