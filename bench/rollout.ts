/**
 * `npm run bench:rollout`: drives a rollout program of BENCH_CLINICS (default 300) clinics from
 * preparation to go-live with short policy durations, and prints how long it took and how big the
 * program's history got (events, summed over its continue-as-new runs) beside its children's.
 * The bench plays every owner: it completes tasks, certifies staff and says go, as Updates.
 * Everything runs on this machine: API, worker, Temporal and Postgres share its cores.
 */
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { rolloutPolicyWith } from '../domain/rollout';
import { completeTaskUpdate, decisionUpdate, onboardingStateQuery, recordTrainingUpdate } from '../workflows/onboarding';
import { rolloutDashboardQuery, rolloutProgramWorkflow, rolloutStateQuery } from '../workflows/rollout';
import { startTestEngine } from '../tests/helpers';
import { fastPolicy, makeOnboardingClinic } from '../tests/onboarding-fixtures';
import { startBenchStack } from './stack';

const CLINICS = Number(process.env.BENCH_CLINICS ?? 300);
const PILOTS = 3;
const MAX_CONCURRENT = Number(process.env.BENCH_CONCURRENCY ?? 50);
const MANUAL = ['infrastructure-survey', 'system-adaptation', 'registry-migration', 'process-unification'];

async function main() {
  const stack = await startBenchStack();
  const engine = await startTestEngine();
  try {
    const t0 = performance.now();
    const staff = new Map<string, string>();
    for (let i = 0; i < CLINICS; i++) {
      const c = await makeOnboardingClinic(engine.db, { equipment: 0, staff: 2, patients: 0 });
      staff.set(c.clinicId, c.staffIds[0]!);
    }
    const ids = [...staff.keys()];
    console.log(`made ${CLINICS} clinics in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const programId = randomUUID();
    const workflowId = `rollout-${programId}`;
    const policy = rolloutPolicyWith({
      maxConcurrent: MAX_CONCURRENT,
      onboarding: fastPolicy({ certifiedShare: 0.5, pilotPeriodSeconds: 1 }),
    });
    const started = performance.now();
    const program = await engine.client.workflow.start(rolloutProgramWorkflow, {
      workflowId,
      taskQueue: engine.config.CLINICAL_TASK_QUEUE,
      args: [{ programId, pilotClinicIds: ids.slice(0, PILOTS), clinicIds: ids.slice(PILOTS), policy }],
    });

    const by = 'bench';
    const act = async (clinicId: string) => {
      const h: WorkflowHandle = engine.client.workflow.getHandle(`onboarding-${clinicId}`);
      const s = await h.query(onboardingStateQuery).catch(() => null);
      if (!s) return;
      if (s.stage === 'preparation') {
        for (const t of s.tasks.filter((x) => x.stage === 'preparation' && x.status === 'open' && MANUAL.includes(x.key))) {
          await h.executeUpdate(completeTaskUpdate, { args: [{ taskKey: t.key, by, role: 'admin', expectedPatients: 0 }] });
        }
      } else if (s.stage === 'training' && s.staff.certified === 0) {
        await h.executeUpdate(recordTrainingUpdate, { args: [{ staffId: staff.get(clinicId)!, certified: true, by }] });
      } else if (s.stage === 'pilot' && s.awaitingDecision) {
        await h.executeUpdate(decisionUpdate, { args: [{ decision: 'go', reason: 'bench', by }] });
      }
    };
    let lastPrint = 0;
    for (;;) {
      const state = await program.query(rolloutStateQuery);
      if (state.phase === 'done') break;
      const active = Object.entries(state.clinics)
        .filter(([, c]) => c.stage !== 'queued' && c.stage !== 'live')
        .map(([id]) => id);
      await Promise.all(active.map((id) => act(id).catch(() => undefined)));
      if (performance.now() - lastPrint > 10_000) {
        lastPrint = performance.now();
        const d = await program.query(rolloutDashboardQuery);
        console.log(`${((performance.now() - started) / 1000).toFixed(0)} s: ${JSON.stringify(d.perStage)}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    await program.result();
    const seconds = (performance.now() - started) / 1000;

    let programEvents = 0;
    let runs = 0;
    let largestRun = 0;
    for await (const wf of engine.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
      runs++;
      programEvents += wf.historyLength;
      largestRun = Math.max(largestRun, wf.historyLength);
    }
    let children = 0;
    let childEvents = 0;
    for await (const wf of engine.client.workflow.list({ query: `WorkflowType = 'onboardingWorkflow'` })) {
      children++;
      childEvents += wf.historyLength;
    }
    const live = Number(
      (
        await engine.db
          .selectFrom('clinics')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .where('id', 'in', ids)
          .where('rollout_stage', '=', 'live')
          .executeTakeFirstOrThrow()
      ).n,
    );
    const result = {
      bench: 'rollout',
      clinics: CLINICS,
      pilots: PILOTS,
      maxConcurrent: MAX_CONCURRENT,
      live,
      seconds: +seconds.toFixed(1),
      programEvents,
      programRuns: runs,
      largestRunEvents: largestRun,
      onboardingWorkflows: children,
      onboardingEventsAvg: +(childEvents / Math.max(1, children)).toFixed(1),
    };
    console.table([result]);
    console.log(JSON.stringify(result));
  } finally {
    await engine.stop();
    await stack.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
