/**
 * Side effects of the onboarding workflow. Each runs in one transaction with statement and lock
 * timeouts below the activity's own, and is keyed by the clinic, the task or the workflow id, so a
 * retried activity never writes twice. Refusals are non-retryable failures with their own type.
 */
import { sql, type Transaction } from 'kysely';
import type { Db } from '../db';
import { equipmentCounts, pilotMetrics, recordOnboardingEvent, staffCounts } from '../db/onboarding';
import { decideStaffMessage } from '../db/staff-notify';
import type { Database } from '../db/schema';
import {
  BOOKABLE_STAGES,
  TASK_TEMPLATES,
  nextEquipmentStep,
  stageIndex,
  type BlockerView,
  type EquipmentStep,
  type IncidentView,
  type OnboardingStage,
  type PilotMetrics,
} from '../domain/onboarding';
import { refuse } from './errors';

/** One transaction with timeouts below the activity's 10 s. */
function tx<T>(db: Db, fn: (tx: Transaction<Database>) => Promise<T>): Promise<T> {
  return db.transaction().execute(async (t) => {
    await sql`SET LOCAL statement_timeout = '5s'`.execute(t);
    await sql`SET LOCAL lock_timeout = '2s'`.execute(t);
    return fn(t);
  });
}

interface Ctx {
  clinicId: string;
  workflowId: string;
}

export function createOnboardingActivities(deps: { db: Db }) {
  const { db } = deps;

  return {
    /** Creates the clinic's task rows once and reads where it stands (stage, tasks done, equipment, staff, open blockers and incidents). */
    async beginOnboarding(input: Ctx) {
      return tx(db, async (t) => {
        const clinic = await t
          .selectFrom('clinics')
          .select(['rollout_stage'])
          .where('id', '=', input.clinicId)
          .forUpdate()
          .executeTakeFirst();
        if (!clinic) throw refuse('NotFound', `clinic ${input.clinicId} does not exist`);
        await t
          .insertInto('onboarding_tasks')
          // A clinic that joins at a later stage did the earlier stages' work before the system came.
          .values(
            TASK_TEMPLATES.map((tpl) => {
              const before = stageIndex(tpl.stage) < stageIndex(clinic.rollout_stage);
              return {
                clinic_id: input.clinicId,
                stage: tpl.stage,
                task: tpl.key,
                title: tpl.title,
                owner_role: tpl.owner,
                status: before ? ('completed' as const) : ('requested' as const),
                approved_by: before ? 'before-onboarding' : null,
                completed_at: before ? sql<Date>`now()` : null,
                workflow_id: input.workflowId,
              };
            }),
          )
          .onConflict((oc) => oc.columns(['clinic_id', 'stage', 'task']).doNothing())
          .execute();
        const done = await t
          .selectFrom('onboarding_tasks')
          .select(['task', 'approved_by'])
          .where('clinic_id', '=', input.clinicId)
          .where('status', '=', 'completed')
          .execute();
        const blockers = await t
          .selectFrom('onboarding_blockers')
          .select(['id', 'stage', 'description'])
          .where('clinic_id', '=', input.clinicId)
          .where('resolved_at', 'is', null)
          .execute();
        const incidents = await t
          .selectFrom('pilot_incidents')
          .select(['id', 'blocking'])
          .where('clinic_id', '=', input.clinicId)
          .where('status', '=', 'open')
          .execute();
        await recordOnboardingEvent(t, {
          clinicId: input.clinicId,
          workflowId: input.workflowId,
          kind: 'onboarding-started',
          stage: clinic.rollout_stage,
          dedupeKey: `${input.workflowId}:started`,
        });
        return {
          stage: clinic.rollout_stage as OnboardingStage,
          completed: done.map((d) => ({ key: d.task, by: d.approved_by })),
          equipment: await equipmentCounts(t, input.clinicId),
          staff: await staffCounts(t, input.clinicId),
          blockers: blockers.map((b) => ({ id: b.id, stage: b.stage as OnboardingStage, description: b.description })) as BlockerView[],
          incidents: incidents as IncidentView[],
        };
      });
    },

    /** Moves the clinic into a stage (pilot and live make it bookable), opens that stage's tasks with their deadline. */
    async enterStage(input: Ctx & { stage: OnboardingStage; round: number; deadlineAt: string | null }) {
      await tx(db, async (t) => {
        await t.updateTable('clinics').set({ rollout_stage: input.stage }).where('id', '=', input.clinicId).execute();
        await t
          .updateTable('onboarding_tasks')
          .set({ status: 'in-progress', deadline_at: input.deadlineAt, escalations: 0, updated_at: sql`now()` })
          .where('clinic_id', '=', input.clinicId)
          .where('stage', '=', input.stage)
          .where('status', '!=', 'completed')
          .execute();
        await recordOnboardingEvent(t, {
          clinicId: input.clinicId,
          workflowId: input.workflowId,
          kind: 'stage-entered',
          stage: input.stage,
          dedupeKey: `${input.workflowId}:stage:${input.stage}:${input.round}`,
          details: { round: input.round, bookable: BOOKABLE_STAGES.includes(input.stage), deadlineAt: input.deadlineAt },
        });
      });
    },

    /** Reopens the pilot's tasks after a no-go (another pilot period follows). */
    async reopenPilot(input: Ctx & { round: number }) {
      await tx(db, async (t) => {
        await t
          .updateTable('onboarding_tasks')
          .set({ status: 'in-progress', completed_at: null, approved_by: null, deadline_at: null, escalations: 0, updated_at: sql`now()` })
          .where('clinic_id', '=', input.clinicId)
          .where('stage', '=', 'pilot')
          .execute();
      });
    },

    /** Sets the deadline of open tasks (a blocker's pause moves them by the time it lasted). */
    async setDeadlines(input: Ctx & { tasks: Array<{ key: string; deadlineAt: string }> }) {
      await tx(db, async (t) => {
        for (const task of input.tasks) {
          await t
            .updateTable('onboarding_tasks')
            .set({ deadline_at: task.deadlineAt, updated_at: sql`now()` })
            .where('clinic_id', '=', input.clinicId)
            .where('task', '=', task.key)
            .execute();
        }
      });
    },

    /**
     * Completes a task after checking what it claims: every item installed, every practitioner with a
     * schedule, the migrated registry's count equal to the source's.
     */
    async completeTask(input: Ctx & { taskKey: string; by: string; expectedPatients?: number; round?: number }) {
      return tx(db, async (t) => {
        const row = await t
          .selectFrom('onboarding_tasks')
          .select(['status', 'stage'])
          .where('clinic_id', '=', input.clinicId)
          .where('task', '=', input.taskKey)
          .forUpdate()
          .executeTakeFirst();
        if (!row) throw refuse('NotFound', `task ${input.taskKey} does not exist`);
        if (row.status === 'completed') return { key: input.taskKey, details: {} };
        let details: object = {};
        if (input.taskKey === 'equipment-procurement') {
          const eq = await equipmentCounts(t, input.clinicId);
          if (eq.installed < eq.total)
            throw refuse('PreconditionFailed', `${eq.total - eq.installed} of ${eq.total} equipment items are not installed yet`);
          details = eq;
        }
        if (input.taskKey === 'system-adaptation') {
          const r = await t
            .selectFrom('practitioners as p')
            .select((eb) => [
              eb.fn.countAll<string>().as('practitioners'),
              sql<string>`count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM schedules s WHERE s.practitioner_id = p.id))`.as('unscheduled'),
            ])
            .where('p.clinic_id', '=', input.clinicId)
            .executeTakeFirstOrThrow();
          if (Number(r.practitioners) === 0) throw refuse('PreconditionFailed', 'no practitioners are loaded for this clinic');
          if (Number(r.unscheduled) > 0) throw refuse('PreconditionFailed', `${r.unscheduled} practitioners have no schedule`);
          details = { practitioners: Number(r.practitioners) };
        }
        if (input.taskKey === 'registry-migration') {
          const r = await t
            .selectFrom('patients')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .where('home_clinic_id', '=', input.clinicId)
            .executeTakeFirstOrThrow();
          if (input.expectedPatients === undefined)
            throw refuse('PreconditionFailed', "registry migration needs expectedPatients, the source registry's count, to reconcile");
          if (Number(r.n) !== input.expectedPatients)
            throw refuse(
              'PreconditionFailed',
              `counts do not reconcile: ${r.n} migrated, ${input.expectedPatients} in the source registry`,
            );
          details = { migrated: Number(r.n) };
        }
        await t
          .updateTable('onboarding_tasks')
          .set({ status: 'completed', approved_by: input.by, completed_at: sql`now()`, blocked: false, updated_at: sql`now()` })
          .where('clinic_id', '=', input.clinicId)
          .where('task', '=', input.taskKey)
          .execute();
        await recordOnboardingEvent(t, {
          clinicId: input.clinicId,
          workflowId: input.workflowId,
          kind: 'task-completed',
          stage: row.stage as OnboardingStage,
          dedupeKey: `${input.workflowId}:task:${input.taskKey}:${input.round ?? 0}`,
          details: { task: input.taskKey, by: input.by, ...details },
        });
        return { key: input.taskKey, details };
      });
    },

    /**
     * Records a reminder to the task's owner, or an escalation of an overdue task. An escalation also
     * tells the clinic's onboarding lead on the roster at that moment (nobody on it: ops), in the same
     * transaction, and the timeline's `staff-notified` event names them.
     */
    async taskAlarm(
      input: Ctx & { taskKey: string; stage: OnboardingStage; kind: 'reminder' | 'escalation'; level: number; owner: string },
    ) {
      await tx(db, async (t) => {
        if (input.kind === 'escalation') {
          await t
            .updateTable('onboarding_tasks')
            .set({ escalations: input.level, updated_at: sql`now()` })
            .where('clinic_id', '=', input.clinicId)
            .where('task', '=', input.taskKey)
            .execute();
          const told = await decideStaffMessage(t, {
            kind: 'onboarding-task-overdue',
            clinicId: input.clinicId,
            department: '*',
            role: 'onboarding-lead',
            referralId: null,
            dedupeKey: `${input.workflowId}:staff:overdue:${input.taskKey}:${input.level}`,
          });
          await recordOnboardingEvent(t, {
            clinicId: input.clinicId,
            workflowId: input.workflowId,
            kind: 'staff-notified',
            stage: input.stage,
            dedupeKey: `${input.workflowId}:staff-notified:${input.taskKey}:${input.level}`,
            details: { task: input.taskKey, level: input.level, ...told },
          });
        }
        await recordOnboardingEvent(t, {
          clinicId: input.clinicId,
          workflowId: input.workflowId,
          kind: input.kind === 'reminder' ? 'task-reminder' : 'task-escalated',
          stage: input.stage,
          dedupeKey: `${input.workflowId}:${input.kind}:${input.taskKey}:${input.level}`,
          details: { task: input.taskKey, owner: input.owner, level: input.level },
        });
      });
    },

    /** Opens a blocker: the stage's open tasks are flagged blocked until every blocker is resolved. */
    async recordBlocker(input: Ctx & { blockerId: string; stage: OnboardingStage; description: string; by: string }) {
      await tx(db, async (t) => {
        await t
          .insertInto('onboarding_blockers')
          .values({
            id: input.blockerId,
            clinic_id: input.clinicId,
            stage: input.stage,
            description: input.description,
            reported_by: input.by,
            resolved_by: null,
            resolved_at: null,
          })
          .onConflict((oc) => oc.column('id').doNothing())
          .execute();
        await t
          .updateTable('onboarding_tasks')
          .set({ blocked: true })
          .where('clinic_id', '=', input.clinicId)
          .where('stage', '=', input.stage)
          .where('status', '!=', 'completed')
          .execute();
        await recordOnboardingEvent(t, {
          clinicId: input.clinicId,
          workflowId: input.workflowId,
          kind: 'blocker-reported',
          stage: input.stage,
          dedupeKey: `${input.workflowId}:blocker:${input.blockerId}`,
          details: { blockerId: input.blockerId, by: input.by },
        });
      });
    },

    async resolveBlocker(input: Ctx & { blockerId: string; stage: OnboardingStage; by: string; lastOne: boolean }) {
      await tx(db, async (t) => {
        await t
          .updateTable('onboarding_blockers')
          .set({ resolved_by: input.by, resolved_at: sql`now()` })
          .where('id', '=', input.blockerId)
          .where('resolved_at', 'is', null)
          .execute();
        if (input.lastOne)
          await t.updateTable('onboarding_tasks').set({ blocked: false }).where('clinic_id', '=', input.clinicId).execute();
        await recordOnboardingEvent(t, {
          clinicId: input.clinicId,
          workflowId: input.workflowId,
          kind: 'blocker-resolved',
          stage: input.stage,
          dedupeKey: `${input.workflowId}:blocker-resolved:${input.blockerId}`,
          details: { blockerId: input.blockerId, by: input.by },
        });
      });
    },

    /** One equipment item's next step (ordered → delivered → installed); returns the clinic's counts. */
    async recordEquipmentStep(input: Ctx & { itemId: string; step: EquipmentStep; by: string; stage: OnboardingStage }) {
      return tx(db, async (t) => {
        const item = await t
          .selectFrom('equipment_items')
          .selectAll()
          .where('id', '=', input.itemId)
          .where('clinic_id', '=', input.clinicId)
          .forUpdate()
          .executeTakeFirst();
        if (!item) throw refuse('NotFound', `equipment item ${input.itemId} does not belong to this clinic`);
        const column = `${input.step}_at` as const;
        if (item[column] === null) {
          const next = nextEquipmentStep({
            ordered: item.ordered_at !== null,
            delivered: item.delivered_at !== null,
            installed: item.installed_at !== null,
          });
          if (next !== input.step) throw refuse('InvalidInput', `item ${input.itemId} cannot be ${input.step} before it is ${next}`);
          await t
            .updateTable('equipment_items')
            .set({ [column]: sql`now()` })
            .where('id', '=', input.itemId)
            .execute();
          await recordOnboardingEvent(t, {
            clinicId: input.clinicId,
            workflowId: input.workflowId,
            kind: `equipment-${input.step}`,
            stage: input.stage,
            dedupeKey: `${input.workflowId}:equipment:${input.itemId}:${input.step}`,
            details: { itemId: input.itemId, kind: item.kind, by: input.by },
          });
        }
        return equipmentCounts(t, input.clinicId);
      });
    },

    /** Records a staff member trained (and certified, when they passed); returns the clinic's counts. */
    async recordTraining(input: Ctx & { staffId: string; certified: boolean; by: string; stage: OnboardingStage }) {
      return tx(db, async (t) => {
        const staff = await t
          .selectFrom('clinic_staff')
          .select(['id', 'role'])
          .where('id', '=', input.staffId)
          .where('clinic_id', '=', input.clinicId)
          .executeTakeFirst();
        if (!staff) throw refuse('NotFound', `staff member ${input.staffId} does not belong to this clinic`);
        await t
          .updateTable('clinic_staff')
          .set({
            trained_at: sql`coalesce(trained_at, now())`,
            ...(input.certified ? { certified_at: sql`coalesce(certified_at, now())` } : {}),
          })
          .where('id', '=', input.staffId)
          .execute();
        await recordOnboardingEvent(t, {
          clinicId: input.clinicId,
          workflowId: input.workflowId,
          kind: input.certified ? 'staff-certified' : 'staff-trained',
          stage: input.stage,
          dedupeKey: `${input.workflowId}:training:${input.staffId}:${input.certified}`,
          details: { staffId: input.staffId, role: staff.role, by: input.by },
        });
        return staffCounts(t, input.clinicId);
      });
    },

    async recordIncident(input: Ctx & { incidentId: string; blocking: boolean; description: string; by: string; stage: OnboardingStage }) {
      await tx(db, async (t) => {
        await t
          .insertInto('pilot_incidents')
          .values({
            id: input.incidentId,
            clinic_id: input.clinicId,
            blocking: input.blocking,
            status: 'open',
            description: input.description,
            reported_by: input.by,
            resolved_by: null,
            resolved_at: null,
          })
          .onConflict((oc) => oc.column('id').doNothing())
          .execute();
        await recordOnboardingEvent(t, {
          clinicId: input.clinicId,
          workflowId: input.workflowId,
          kind: 'incident-reported',
          stage: input.stage,
          dedupeKey: `${input.workflowId}:incident:${input.incidentId}`,
          details: { incidentId: input.incidentId, blocking: input.blocking, by: input.by },
        });
      });
    },

    async resolveIncident(input: Ctx & { incidentId: string; by: string; stage: OnboardingStage }) {
      await tx(db, async (t) => {
        await t
          .updateTable('pilot_incidents')
          .set({ status: 'resolved', resolved_by: input.by, resolved_at: sql`now()` })
          .where('id', '=', input.incidentId)
          .where('status', '=', 'open')
          .execute();
        await recordOnboardingEvent(t, {
          clinicId: input.clinicId,
          workflowId: input.workflowId,
          kind: 'incident-resolved',
          stage: input.stage,
          dedupeKey: `${input.workflowId}:incident-resolved:${input.incidentId}`,
          details: { incidentId: input.incidentId, by: input.by },
        });
      });
    },

    /** The pilot's metrics since it started, from Postgres; completes the metrics task. */
    async gatherPilotMetrics(input: Ctx & { since: string; round: number }): Promise<PilotMetrics> {
      return tx(db, async (t) => {
        const m = await pilotMetrics(t, input.clinicId, new Date(input.since), input.round);
        await t
          .updateTable('onboarding_tasks')
          .set({ status: 'completed', approved_by: 'system', completed_at: sql`now()`, updated_at: sql`now()` })
          .where('clinic_id', '=', input.clinicId)
          .where('task', '=', 'pilot-metrics')
          .execute();
        await recordOnboardingEvent(t, {
          clinicId: input.clinicId,
          workflowId: input.workflowId,
          kind: 'pilot-metrics',
          stage: 'pilot',
          dedupeKey: `${input.workflowId}:metrics:${input.round}`,
          details: { ...m },
        });
        return m;
      });
    },

    /** The program office's go / no-go, on the timeline and on the decision task. */
    async recordDecision(input: Ctx & { decision: 'go' | 'no-go'; reason: string; by: string; round: number }) {
      await tx(db, async (t) => {
        if (input.decision === 'go') {
          await t
            .updateTable('onboarding_tasks')
            .set({ status: 'completed', approved_by: input.by, completed_at: sql`now()`, updated_at: sql`now()` })
            .where('clinic_id', '=', input.clinicId)
            .where('task', '=', 'go-live-decision')
            .execute();
        }
        await recordOnboardingEvent(t, {
          clinicId: input.clinicId,
          workflowId: input.workflowId,
          kind: `decision-${input.decision}`,
          stage: 'pilot',
          dedupeKey: `${input.workflowId}:decision:${input.round}`,
          details: { decision: input.decision, reason: input.reason, by: input.by, round: input.round },
        });
      });
    },
  };
}
