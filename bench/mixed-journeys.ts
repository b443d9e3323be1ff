/**
 * The mixed load's journeys (bench/mixed-load.ts runs them): what a registrar, a doctor, the lab
 * and ops do, each a few requests in turn through the HTTP API, with the demo city's tokens.
 * A journey stops at the first refusal (it is counted under its operation and code).
 */
import type { Call, City, LoadRecord } from './mixed-load';

export interface Journey {
  name: string;
  weight: number;
  run(): Promise<void>;
}

interface Ctx {
  call: Call;
  tokens: Record<string, string>;
  city: City;
  record: LoadRecord;
  runId: string;
}

export const DEFAULT_WEIGHTS: Record<string, number> = { search: 30, book: 28, conflict: 8, referral: 8, lab: 18, onboarding: 8 };

const LIPIDS = [
  { loinc: '2093-3', value: 5.9, unit: 'mmol/L' },
  { loinc: '13457-7', value: 3.6, unit: 'mmol/L' },
  { loinc: '2085-9', value: 1.1, unit: 'mmol/L' },
  { loinc: '2571-8', value: 221, unit: 'mg/dL' },
  { loinc: '2345-7', value: 6.8, unit: 'mmol/L' },
];
const CRITICAL_POTASSIUM = { loinc: '2823-3', value: 6.9, unit: 'mmol/L' };
const SPECIALTIES = ['cardiology', 'neurology', 'endocrinology', 'ophthalmology'];

const any = <T>(list: T[]): T => list[Math.floor(Math.random() * list.length)]!;
const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
const ok = (status: number) => status >= 200 && status < 300;

/** ORU^R01 for our order id (README's lab section shows the same message). */
function oru(orderId: string, patientId: string, results: Array<{ loinc: string; value: number; unit: string }>, msgId: string): string {
  const obx = results.map((r, i) => `OBX|${i + 1}|NM|${r.loinc}^^LN||${r.value}|${r.unit}|||||F`);
  return [
    `MSH|^~\\&|LIS|CITYLAB|ENGINE|PC-01|20261126120000||ORU^R01^ORU_R01|${msgId}|P|2.5.1`,
    `PID|1||${patientId}`,
    `ORC|RE|${orderId}|F-1`,
    `OBR|1|${orderId}|F-1|24331-1^Lipid panel^LN|||20261126100000`,
    ...obx,
    '',
  ].join('\r');
}

export function journeys(ctx: Ctx, weights: Partial<Record<string, number>> = {}): Journey[] {
  const { call, tokens, city, record, runId } = ctx;
  const reg = tokens.registrar!;
  const doc = tokens.doctor!;
  const lab = tokens.lab!;
  const ops = tokens.ops!;
  let seq = 0;
  const key = (kind: string) => `${runId}-${kind}-${++seq}`;
  const pool: string[] = [];
  const taken: string[] = [];

  async function search(): Promise<void> {
    const res = await call(
      'slots.search',
      'GET',
      `/slots?from=${day(1)}&to=${day(1 + Math.floor(Math.random() * 20))}&clinicId=${city.pc01}&limit=50`,
      reg,
    );
    if (!ok(res.status)) throw new Error('search');
    for (const s of res.body.slots as Array<{ id: string; startsAt: string }>)
      if (Date.parse(s.startsAt) > Date.now() + 4 * 3600_000) pool.push(s.id);
    pool.splice(0, Math.max(0, pool.length - 500));
  }
  async function slot(): Promise<string> {
    if (pool.length === 0) await search();
    const i = Math.floor(Math.random() * pool.length);
    const [id] = pool.splice(i, 1);
    if (!id) throw new Error('no slot');
    return id;
  }
  async function book(op: string, slotId: string, patientId = any(city.patients)) {
    const k = key('appt');
    record.keysSent.appointments.add(k);
    const res = await call(op, 'POST', '/appointments', reg, { slotId, patientId }, { 'idempotency-key': k });
    if (res.status === 201) {
      record.created.appointments.set(k, res.body.id);
      taken.push(slotId);
      taken.splice(0, Math.max(0, taken.length - 100));
    }
    return res;
  }

  const all: Journey[] = [
    { name: 'search', weight: 0, run: search },
    {
      name: 'book',
      weight: 0,
      async run() {
        const booked = await book('appointments.book', await slot());
        if (booked.status !== 201) return;
        const id = booked.body.id as string;
        const dice = Math.random();
        if (dice < 0.55) await call('appointments.confirm', 'POST', `/appointments/${id}/confirm`, reg);
        else if (dice < 0.7) await call('appointments.cancel', 'POST', `/appointments/${id}/cancel`, reg, { reason: 'patient asked' });
        else if (dice < 0.85)
          await call(
            'appointments.reschedule',
            'POST',
            `/appointments/${id}/reschedule`,
            reg,
            { slotId: await slot() },
            { 'idempotency-key': key('move') },
          );
      },
    },
    {
      name: 'conflict',
      weight: 0,
      async run() {
        // Two registrars race for one fresh slot, then a late booker asks for a taken one: 409 slot_taken.
        const contested = await slot();
        await Promise.all([book('appointments.book-race', contested), book('appointments.book-race', contested)]);
        if (taken.length) await book('appointments.book-taken', any(taken));
      },
    },
    {
      name: 'referral',
      weight: 0,
      async run() {
        const k = key('ref');
        record.keysSent.referrals.add(k);
        const res = await call(
          'referrals.create',
          'POST',
          '/referrals',
          doc,
          {
            patientId: any(city.patients),
            referringPractitionerId: city.doctorPractitionerId,
            specialty: any(SPECIALTIES),
            urgency: 'routine',
            reason: 'load test referral',
            icd10: 'I10',
          },
          { 'idempotency-key': k },
        );
        if (res.status !== 201) return;
        record.created.referrals.set(k, res.body.id);
        await call('referrals.read', 'GET', `/referrals/${res.body.id}`, doc);
      },
    },
    {
      name: 'lab',
      weight: 0,
      async run() {
        const critical = Math.random() < 0.15;
        const patientId = any(city.patients);
        const k = key('lab');
        record.keysSent.labOrders.add(k);
        const ordered = await call(
          'lab.order',
          'POST',
          '/lab-orders',
          doc,
          { patientId, tests: critical ? ['2823-3'] : ['24331-1', '2345-7'], priority: critical ? 'stat' : 'urgent' },
          { 'idempotency-key': k },
        );
        if (ordered.status !== 201) return;
        const id = ordered.body.id as string;
        record.created.labOrders.set(k, id);
        if (
          !ok((await call('lab.collect', 'POST', `/lab-orders/${id}/specimen/collect`, lab, { barcode: `LOAD-${id.slice(0, 12)}` })).status)
        )
          return;
        if (!ok((await call('lab.receive', 'POST', `/lab-orders/${id}/specimen/receive`, lab)).status)) return;
        const results = critical ? [CRITICAL_POTASSIUM] : LIPIDS;
        const posted =
          Math.random() < 0.5
            ? await call('lab.results-hl7', 'POST', '/lab-results/hl7v2', lab, oru(id, patientId, results, key('msg')))
            : await call('lab.results', 'POST', `/lab-orders/${id}/results`, lab, { results });
        if (!ok(posted.status)) return;
        record.resulted.add(id);
        const cds = await call('lab.cds-await', 'GET', `/lab-orders/${id}/cds?wait=10s`, doc);
        if (ok(cds.status)) record.note('lab.cds-await answer', 0, String(cds.body?.status));
        if (critical || Math.random() < 0.5) {
          await call('lab.acknowledge', 'POST', `/lab-orders/${id}/acknowledge`, doc, { readBack: critical ? [CRITICAL_POTASSIUM] : [] });
        }
      },
    },
    {
      name: 'onboarding',
      weight: 0,
      async run() {
        const clinicId = any(city.pilots);
        await call('onboarding.read', 'GET', `/onboarding/${clinicId}`, ops);
        const opened = await call('onboarding.incident', 'POST', `/onboarding/${city.pc01}/incidents`, doc, {
          blocking: false,
          description: 'label printer jams (load)',
        });
        if (opened.status === 201)
          await call('onboarding.resolve', 'POST', `/onboarding/${city.pc01}/incidents/${opened.body.incidentId}/resolve`, ops);
      },
    },
  ];
  for (const j of all) j.weight = weights[j.name] ?? DEFAULT_WEIGHTS[j.name] ?? 0;
  return all.filter((j) => j.weight > 0);
}
