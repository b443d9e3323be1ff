/**
 * Side effects of the lab order workflow. Each runs in one transaction with statement and lock
 * timeouts below the activity's own, keyed by the order and a natural key (event dedupe key,
 * result version, round, step), so a retry writes nothing twice and answers as the first did.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sql, type Transaction } from 'kysely';
import type { Db } from '../db';
import { insertAssessmentOnce, listReferenceRanges } from '../db/cds';
import { patientCdsInputs } from '../db/lab-order';
import { onCallAt } from '../db/notify';
import type { Database } from '../db/schema';
import { modelCard, notScoredCard, card, type CdsCard } from '../domain/cds/cards';
import { latestValues, mapModelFeatures, type FeatureMapping } from '../domain/cds/features';
import { parseModelMeta, type ModelMeta } from '../domain/cds/model-meta';
import { egfrCard, flagCards, latestOf, LOINC, type LabValue } from '../domain/cds/rules';
import { nameUuid } from '../domain/ids';
import { ageInYears } from '../domain/interpretation';
import type { CurrentResult, LabCdsView, LabOrderInput, ReadBack, RejectionReason } from '../domain/lab-order';
import type { ReferenceSex } from '../domain/patient';
import { PROJECT_ROOT } from '../platform/config';
import type { ModelScore } from './cds';
import { activityTransaction } from './tx';

export const LAB_CDS_MODEL_ID = 'diabetes-progression';
export const LAB_CDS_SERVICE_ID = 'lab-order-results';

let modelMeta: ModelMeta | undefined;
const diabetesModel = () =>
  (modelMeta ??= parseModelMeta(
    JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'models', `${LAB_CDS_MODEL_ID}.json`), 'utf8')),
    LAB_CDS_MODEL_ID,
  ));

export interface GatheredFeatures extends FeatureMapping {
  modelId: string;
  ageYears: number | null;
  sex: ReferenceSex | null;
  /** This order's final values (catalogue units) for the rule cards. */
  orderLabs: LabValue[];
}

/** One transaction, bounded by this activity's own timeouts (activities/tx.ts). */
const inTx = activityTransaction;

/** Writes an event once; returns when it happened (the first write's time on a retry). */
async function event(
  tx: Transaction<Database>,
  orderId: string,
  key: string,
  kind: string,
  actor: string,
  details: object = {},
): Promise<{ at: string; fresh: boolean }> {
  const inserted = await tx
    .insertInto('lab_order_events')
    .values({ lab_order_id: orderId, kind, actor, details: JSON.stringify(details), dedupe_key: key })
    .onConflict((oc) => oc.column('dedupe_key').doNothing())
    .returning('at')
    .executeTakeFirst();
  if (inserted) return { at: inserted.at.toISOString(), fresh: true };
  const row = await tx.selectFrom('lab_order_events').select('at').where('dedupe_key', '=', key).executeTakeFirstOrThrow();
  return { at: row.at.toISOString(), fresh: false };
}

/** The person an escalation step reaches: a retry finds the one the first attempt named; else the roster now; else the order's contact. */
async function criticalRecipient(
  tx: Transaction<Database>,
  input: { orderId: string; round: number; step: 'ordering' | 'covering' | 'head'; practitionerId: string | null },
) {
  const named = async (id: string | null, source: string) => {
    const p = id ? await tx.selectFrom('practitioners').select('full_name').where('id', '=', id).executeTakeFirst() : undefined;
    return { practitionerId: id, practitionerName: p?.full_name ?? null, source };
  };
  const earlier = await tx
    .selectFrom('lab_critical_notifications')
    .select('recipient_practitioner_id')
    .where('lab_order_id', '=', input.orderId)
    .where('round', '=', input.round)
    .where('step', '=', input.step)
    .executeTakeFirst();
  if (earlier) return named(earlier.recipient_practitioner_id, 'recorded');
  if (input.step === 'ordering') return named(input.practitionerId, 'ordering');
  const order = await tx
    .selectFrom('lab_orders as o')
    .innerJoin('practitioners as p', 'p.id', 'o.ordering_practitioner_id')
    .select(['o.clinic_id', 'p.specialty'])
    .where('o.id', '=', input.orderId)
    .executeTakeFirstOrThrow();
  const onCall = await onCallAt(tx, { clinicId: order.clinic_id, department: order.specialty, role: input.step, at: new Date() });
  return onCall ? named(onCall.practitionerId, 'roster') : named(input.practitionerId, 'clinic-contacts');
}

interface CriticalStep {
  orderId: string;
  workflowId: string;
  round: number;
  step: 'ordering' | 'covering' | 'head';
  practitionerId: string | null;
}

/** One escalation step, once: its event, its notification row and the doctor's outbox row, in one transaction. */
async function notifyCriticalStep(db: Db, input: CriticalStep): Promise<{ at: string; practitionerId: string | null }> {
  return inTx(db, async (tx) => {
    const recipient = await criticalRecipient(tx, input);
    const { at } = await event(
      tx,
      input.orderId,
      `${input.workflowId}:critical:${input.round}:${input.step}`,
      `critical-notified-${input.step}`,
      'system',
      { round: input.round, ...recipient },
    );
    await tx
      .insertInto('lab_critical_notifications')
      .values({
        lab_order_id: input.orderId,
        round: input.round,
        step: input.step,
        recipient_practitioner_id: recipient.practitionerId,
        notified_at: at,
      })
      .onConflict((oc) => oc.columns(['lab_order_id', 'round', 'step']).doNothing())
      .execute();
    await tx
      .insertInto('lab_notifications')
      .values({
        lab_order_id: input.orderId,
        practitioner_id: recipient.practitionerId,
        kind: input.step === 'ordering' ? 'critical-result' : `critical-escalation-${input.step}`,
        dedupe_key: `${input.workflowId}:critical:${input.round}:${input.step}`,
      })
      .onConflict((oc) => oc.column('dedupe_key').doNothing())
      .execute();
    return { at, practitionerId: recipient.practitionerId };
  });
}

export function createLabOrderActivities(deps: { db: Db }) {
  const { db } = deps;
  return {
    /** The order's row, written once when its process starts. */
    async recordLabOrder(input: { orderId: string; workflowId: string; input: LabOrderInput; deadlineAt: string }): Promise<void> {
      const i = input.input;
      await inTx(db, async (tx) => {
        await tx
          .insertInto('lab_orders')
          .values({
            id: i.orderId,
            patient_id: i.patientId,
            clinic_id: i.clinicId,
            ordering_practitioner_id: i.orderingPractitionerId,
            tests: i.tests,
            priority: i.priority,
            status: 'ordered',
            workflow_id: input.workflowId,
            created_at: i.orderedAt,
            deadline_at: input.deadlineAt,
            clinical_note: i.note,
            created_by: i.orderingPractitionerId,
          })
          .onConflict((oc) => oc.column('id').doNothing())
          .execute();
        await event(tx, i.orderId, `${input.workflowId}:ordered`, 'ordered', i.orderingPractitionerId, {
          priority: i.priority,
          tests: i.tests,
        });
      });
    },

    /** One step (collected, received, cancelled, closed): status, its time and who; returns the step's time. */
    async recordLabStep(input: {
      orderId: string;
      key: string;
      status: 'collected' | 'received' | 'cancelled' | 'closed';
      actor: string;
      barcode?: string;
      cancelReason?: string;
      details: object;
    }): Promise<string> {
      return inTx(db, async (tx) => {
        const { at, fresh } = await event(tx, input.orderId, input.key, input.status, input.actor, input.details);
        if (fresh) {
          const set =
            input.status === 'collected'
              ? { collected_at: at, collected_by: input.actor, barcode: input.barcode ?? null }
              : input.status === 'received'
                ? { received_at: at }
                : input.status === 'cancelled'
                  ? { cancelled_at: at, cancel_reason: input.cancelReason ?? null }
                  : {};
          await tx
            .updateTable('lab_orders')
            .set({ ...set, status: input.status, updated_at: sql`now()` })
            .where('id', '=', input.orderId)
            .execute();
        }
        return at;
      });
    },

    /** A rejected specimen with its reason: back to collection, or cancelled past the limit. */
    async recordSpecimenRejection(input: {
      orderId: string;
      workflowId: string;
      attempt: number;
      reason: RejectionReason;
      by: string;
      barcode: string | null;
      cancel: boolean;
    }): Promise<string> {
      return inTx(db, async (tx) => {
        const { at, fresh } = await event(
          tx,
          input.orderId,
          `${input.workflowId}:rejected:${input.attempt}`,
          'specimen-rejected',
          input.by,
          { reason: input.reason, attempt: input.attempt },
        );
        if (fresh) {
          await tx
            .insertInto('lab_specimen_rejections')
            .values({
              lab_order_id: input.orderId,
              attempt: input.attempt,
              reason: input.reason,
              barcode: input.barcode,
              rejected_by: input.by,
              rejected_at: at,
            })
            .onConflict((oc) => oc.columns(['lab_order_id', 'attempt']).doNothing())
            .execute();
          await tx
            .updateTable('lab_orders')
            .set({
              status: input.cancel ? 'cancelled' : 'ordered',
              rejection_count: input.attempt,
              barcode: null,
              collected_at: null,
              collected_by: null,
              received_at: null,
              ...(input.cancel ? { cancelled_at: at, cancel_reason: `specimen rejected (${input.reason}) ${input.attempt} times` } : {}),
              updated_at: sql`now()`,
            })
            .where('id', '=', input.orderId)
            .execute();
        }
        return at;
      });
    },

    /** New result versions (history, never overwritten); when every test is final, the order is final. */
    async recordResults(input: {
      orderId: string;
      workflowId: string;
      by: string;
      source: string;
      versions: CurrentResult[];
      final: boolean;
      round: number;
      critical: boolean;
    }): Promise<{ finalAt: string | null }> {
      return inTx(db, async (tx) => {
        await tx
          .insertInto('lab_result_versions')
          .values(
            input.versions.map((v) => ({
              lab_order_id: input.orderId,
              loinc: v.loinc,
              version: v.version,
              value: v.value,
              unit: v.unit,
              reported_value: v.reportedValue,
              reported_unit: v.reportedUnit,
              interpretation: v.flag,
              ref_low: v.refLow,
              ref_high: v.refHigh,
              status: v.status,
              source: input.source,
              posted_by: input.by,
            })),
          )
          .onConflict((oc) => oc.columns(['lab_order_id', 'loinc', 'version']).doNothing())
          .execute();
        const key = input.versions.map((v) => `${v.loinc}@${v.version}`).join(',');
        const { at } = await event(tx, input.orderId, `${input.workflowId}:results:${key}`, 'results-posted', input.by, {
          source: input.source,
          tests: input.versions.map((v) => v.loinc),
        });
        await tx
          .updateTable('lab_orders')
          .set({ status: 'resulted', resulted_at: sql`coalesce(resulted_at, ${at}::timestamptz)`, updated_at: sql`now()` })
          .where('id', '=', input.orderId)
          .where('status', 'in', ['received', 'resulted'])
          .execute();
        if (!input.final) return { finalAt: null };
        const final = await event(
          tx,
          input.orderId,
          `${input.workflowId}:final:${input.round}`,
          input.round > 1 ? 'amended' : 'final',
          'system',
          { round: input.round, critical: input.critical },
        );
        await tx
          .updateTable('lab_orders')
          .set({
            status: 'final',
            final_at: final.at,
            round: input.round,
            critical_pending: input.critical,
            acknowledged_at: null,
            acknowledged_by: null,
            ack_seconds: null,
            updated_at: sql`now()`,
          })
          .where('id', '=', input.orderId)
          .where('round', '<', input.round)
          .execute();
        // The patient hears that results are ready (no value in the message: a link to sign in), once per round.
        await tx
          .insertInto('notifications')
          .columns(['patient_id', 'lab_order_id', 'kind', 'dedupe_key'])
          .expression((eb) =>
            eb
              .selectFrom('lab_orders')
              .select([
                'patient_id',
                'id',
                sql<string>`'results-ready'`.as('kind'),
                sql<string>`${`${input.workflowId}:results-ready:${input.round}`}`.as('dedupe_key'),
              ])
              .where('id', '=', input.orderId),
          )
          .onConflict((oc) => oc.column('dedupe_key').doNothing())
          .execute();
        return { finalAt: final.at };
      });
    },

    /**
     * Tells a doctor of an unacknowledged critical result (outbox row), once per round and step.
     * The covering doctor and the head are whoever the on-call roster names at this moment (the
     * clinic-wide contacts the order started with only when the roster has nobody); the timeline
     * event names them.
     */
    /** Tells a critical value's step to its recipient (named from the on-call roster when the step fires); returns when. */
    async notifyCritical(input: CriticalStep): Promise<string> {
      return (await notifyCriticalStep(db, input)).at;
    },

    /** The same, also naming who was told: the process lets that doctor acknowledge (patch 'critical-recipient-named'). */
    async notifyCriticalNamed(input: CriticalStep): Promise<{ at: string; practitionerId: string | null }> {
      return notifyCriticalStep(db, input);
    },

    /** The doctor's acknowledgement with the read-back they typed, and the time from final to it. */
    async recordAcknowledgement(input: {
      orderId: string;
      workflowId: string;
      round: number;
      practitionerId: string;
      readBack: ReadBack[];
      critical: boolean;
      finalAt: string;
    }): Promise<string> {
      return inTx(db, async (tx) => {
        const { at } = await event(
          tx,
          input.orderId,
          `${input.workflowId}:acknowledged:${input.round}`,
          'acknowledged',
          input.practitionerId,
          { round: input.round, critical: input.critical },
        );
        const seconds = (Date.parse(at) - Date.parse(input.finalAt)) / 1000;
        await tx
          .insertInto('lab_acknowledgements')
          .values({
            lab_order_id: input.orderId,
            round: input.round,
            practitioner_id: input.practitionerId,
            read_back: JSON.stringify(input.readBack ?? []),
            critical: input.critical,
            seconds_from_final: seconds,
            acknowledged_at: at,
          })
          .onConflict((oc) => oc.columns(['lab_order_id', 'round']).doNothing())
          .execute();
        await tx
          .updateTable('lab_orders')
          .set({
            status: 'acknowledged',
            acknowledged_at: at,
            acknowledged_by: input.practitionerId,
            ack_seconds: seconds,
            critical_pending: false,
            updated_at: sql`now()`,
          })
          .where('id', '=', input.orderId)
          .where('round', '=', input.round)
          .execute();
        return at;
      });
    },

    /** Past its turnaround deadline and not final. */
    async markLabOrderOverdue(input: { orderId: string }): Promise<void> {
      await inTx(db, async (tx) => {
        await tx.updateTable('lab_orders').set({ overdue: true }).where('id', '=', input.orderId).execute();
        await event(tx, input.orderId, `lab-order-${input.orderId}:overdue`, 'overdue', 'system');
      });
    },

    /** The model's features from Postgres: this order's values, the latest vitals and earlier results, with dates and units. */
    async gatherLabFeatures(input: { orderId: string; patientId: string }): Promise<GatheredFeatures> {
      const p = await patientCdsInputs(db, input.patientId);
      const now = new Date().toISOString();
      const sex = p.sex === 'female' || p.sex === 'male' ? p.sex : null;
      const mapping = mapModelFeatures(diabetesModel(), {
        patient: { resourceType: 'Patient', gender: p.sex, birthDate: p.birthDate },
        labs: p.labs,
        evaluationDate: now.slice(0, 10),
      });
      const order = await db.selectFrom('lab_orders').select('tests').where('id', '=', input.orderId).executeTakeFirstOrThrow();
      const orderLabs = latestValues(p.labs).filter((l) => order.tests.includes(l.loinc));
      return { ...mapping, modelId: LAB_CDS_MODEL_ID, ageYears: ageInYears(p.birthDate, now), sex, orderLabs };
    },

    /** Stores the round's assessment and cards (model card or why not, eGFR, flags); the first stored wins. */
    async storeLabCds(input: {
      orderId: string;
      workflowId: string;
      round: number;
      patientId: string;
      gathered: GatheredFeatures;
      scored: ModelScore | null;
      failure: string | null;
    }): Promise<LabCdsView> {
      const g = input.gathered;
      const cards: CdsCard[] = [];
      let assessmentId: string | null = null;
      if (input.scored) {
        const s = input.scored;
        const row = await insertAssessmentOnce(db, {
          request_key: `${input.workflowId}:cds:${input.round}`,
          service_id: LAB_CDS_SERVICE_ID,
          patient_ref: input.patientId,
          lab_order_id: input.orderId,
          model_id: s.modelId,
          model_version: s.modelVersion,
          inputs: JSON.stringify({ features: g.features, provenance: { sources: g.sources, notes: g.notes } }),
          output: JSON.stringify(s),
          score: s.score,
          band: s.band,
        });
        assessmentId = row.id;
        cards.push(
          modelCard(
            diabetesModel(),
            {
              id: row.id,
              createdAt: row.created_at.toISOString(),
              modelId: s.modelId,
              modelVersion: s.modelVersion,
              score: s.score,
              band: s.band,
              baseline: s.baseline,
              contributions: s.contributions,
              warnings: s.warnings,
            },
            g.notes,
          ),
        );
      } else if (g.missing.length) {
        cards.push(notScoredCard(g.modelId, g.missing));
      } else {
        cards.push(
          card({
            summary: 'Diabetes progression score not calculated: the model could not score',
            indicator: 'info',
            topic: { system: 'urn:clinical-engine:model', code: g.modelId },
            detail: `Not calculated: ${input.failure ?? 'unknown reason'}.`,
          }),
        );
      }
      const creatinine = latestOf(g.orderLabs, LOINC.creatinine);
      if (creatinine) cards.push(egfrCard({ creatinine, ageYears: g.ageYears, sex: g.sex }));
      cards.push(...flagCards(g.orderLabs, await listReferenceRanges(db), g.sex));
      const stamped = cards.map((c, i) => ({ uuid: nameUuid('cds', `${input.orderId}:${input.round}:${i}`), ...c }));
      return inTx(db, async (tx) => {
        await tx
          .insertInto('lab_cds_cards')
          .values({ lab_order_id: input.orderId, round: input.round, assessment_id: assessmentId, cards: JSON.stringify(stamped) })
          .onConflict((oc) => oc.columns(['lab_order_id', 'round']).doNothing())
          .execute();
        const row = await tx
          .selectFrom('lab_cds_cards')
          .selectAll()
          .where('lab_order_id', '=', input.orderId)
          .where('round', '=', input.round)
          .executeTakeFirstOrThrow();
        await event(tx, input.orderId, `${input.workflowId}:cds:${input.round}`, 'cds-assessed', 'system', {
          round: input.round,
          assessmentId,
          scored: input.scored !== null,
        });
        return { round: row.round, cards: row.cards as unknown[], storedAt: row.created_at.toISOString() };
      });
    },
  };
}
