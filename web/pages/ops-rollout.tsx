/**
 * The rollout program board: the program's phase and pause state (its workflow's Query), the pilots and the waves
 * with each clinic's stage, open tasks, blockers and last go / no-go, a Temporal UI link per clinic and for the
 * program; pause and resume run the API's own signal command (api/onboarding/program-commands.ts).
 */
import type { Hono } from 'hono';
import { ApiError } from '../../api/errors';
import { programCommands } from '../../api/onboarding/program-commands';
import type { ApiDeps } from '../../api/router';
import { clinicsOverview, rolloutBoardRows } from '../../db/desk-ops';
import { onboardingWorkflowId } from '../../domain/onboarding';
import { DEFAULT_ROLLOUT_POLICY, planWaves, type RolloutPolicy } from '../../domain/rollout';
import { asApi, type WebContext, type WebEnv } from '../env';
import { CsrfField, Layout } from '../layout';
import { checkCsrf, page } from './common';
import { OpsNav, TemporalLink, opsOnly } from './ops-shared';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function rolloutPages(web: Hono<WebEnv>, deps: ApiDeps, link: (workflowId: string) => string | undefined) {
  const { db } = deps;
  const programs = programCommands(deps);

  web.get(
    '/ops/rollout',
    opsOnly,
    page(async (c) => {
      const o = c.get('t').ops;
      const newest = await db
        .selectFrom('rollout_programs')
        .select('id')
        .orderBy('created_at', 'desc')
        .orderBy('id')
        .limit(1)
        .executeTakeFirst();
      if (newest) return c.redirect(`/ops/rollout/${newest.id}`, 303);
      return c.html(
        <Layout c={c} title={o.rolloutTitle}>
          <OpsNav c={c} at="rollout" />
          <p>{o.noPrograms}</p>
        </Layout>,
      );
    }),
  );

  const programId = (c: WebContext) => {
    const id = c.req.param('id') ?? '';
    if (!UUID.test(id)) throw new ApiError(404, 'program_not_found', 'No such program.');
    return id;
  };

  web.get(
    '/ops/rollout/:id',
    opsOnly,
    page(async (c) => {
      const o = c.get('t').ops;
      const id = programId(c);
      const [{ row, state }, list, clinics, policyRow] = await Promise.all([
        programs.state(id),
        db.selectFrom('rollout_programs').select(['id', 'name']).orderBy('created_at', 'desc').limit(20).execute(),
        clinicsOverview(db),
        db.selectFrom('rollout_programs').select('policy').where('id', '=', id).executeTakeFirst(),
      ]);
      const policy = (typeof policyRow?.policy === 'string' ? JSON.parse(policyRow.policy) : policyRow?.policy) as
        Partial<RolloutPolicy> | undefined;
      const ids = Object.keys(state.clinics);
      const board = await rolloutBoardRows(db, ids);
      const byId = new Map(clinics.map((cl) => [cl.id, cl]));
      const pilots = ids.filter((cid) => state.clinics[cid]!.pilot);
      const waves = planWaves(
        ids.filter((cid) => !state.clinics[cid]!.pilot),
        Math.max(1, policy?.maxConcurrent ?? DEFAULT_ROLLOUT_POLICY.maxConcurrent),
      );
      const done = ({ paused: o.pausedNotice, resumed: o.resumedNotice } as Record<string, string>)[c.req.query('done') ?? ''];

      const ClinicRows = (props: { clinicIds: string[] }) => (
        <>
          {props.clinicIds.map((cid) => {
            const progress = state.clinics[cid]!;
            const clinic = byId.get(cid);
            const tasks = board.tasks.filter((x) => x.clinic_id === cid);
            const overdue = tasks.filter((x) => x.escalations > 0).length;
            const blockers = board.blockers.filter((x) => x.clinic_id === cid);
            const decision = board.decisions.find((x) => x.clinic_id === cid);
            const workflowId = onboardingWorkflowId(cid);
            return (
              <tr data-clinic={cid} data-stage={progress.stage}>
                <th scope="row">{clinic ? `${clinic.code} · ${clinic.name}` : cid}</th>
                <td>
                  {o.stages[progress.stage] ?? progress.stage}
                  {progress.behind && <span class="mark breached"> {o.behind}</span>}
                </td>
                <td>
                  {tasks.length ? (
                    <>
                      {tasks.length}
                      {overdue > 0 && <span class="mark breached"> {o.overdue(overdue)}</span>}
                    </>
                  ) : (
                    o.none
                  )}
                </td>
                <td>
                  {blockers.length ? (
                    <ul class="plain">
                      {blockers.map((b) => (
                        <li>{b.description}</li>
                      ))}
                    </ul>
                  ) : (
                    o.none
                  )}
                </td>
                <td>{decision ? (o.decisions[decision.kind] ?? decision.kind) : o.none}</td>
                <td>{progress.stage === 'queued' ? o.none : <TemporalLink c={c} href={link(workflowId)} workflowId={workflowId} />}</td>
              </tr>
            );
          })}
        </>
      );
      const Wave = (props: { title: string; clinicIds: string[]; n: number }) => (
        <section aria-labelledby={`wave-${props.n}`}>
          <h3 id={`wave-${props.n}`}>{props.title}</h3>
          <div class="table-scroll" tabindex={0} role="region" aria-labelledby={`wave-${props.n}`}>
            <table class="board">
              <thead>
                <tr>
                  <th scope="col">{o.clinic}</th>
                  <th scope="col">{o.stage}</th>
                  <th scope="col">{o.tasks}</th>
                  <th scope="col">{o.blockers}</th>
                  <th scope="col">{o.decision}</th>
                  <th scope="col">{o.process}</th>
                </tr>
              </thead>
              <tbody>
                <ClinicRows clinicIds={props.clinicIds} />
              </tbody>
            </table>
          </div>
        </section>
      );

      return c.html(
        <Layout c={c} title={`${o.rolloutTitle}: ${row.name}`} notice={done}>
          <OpsNav c={c} at="rollout" />
          {list.length > 1 && (
            <ul class="plain programs">
              {list.map((p) => (
                <li>
                  <a href={`/ops/rollout/${p.id}`} aria-current={p.id === id ? 'page' : undefined}>
                    {p.name}
                  </a>
                </li>
              ))}
            </ul>
          )}
          <dl class="grid">
            <dt>{o.program}</dt>
            <dd data-program={id} data-paused={String(state.paused)} data-phase={state.phase}>
              {o.phase[state.phase] ?? state.phase} · <strong class="program-state">{state.paused ? o.paused : o.running}</strong>
            </dd>
            <dt>{o.process}</dt>
            <dd>
              <TemporalLink c={c} href={link(row.workflow_id)} workflowId={row.workflow_id} />
            </dd>
          </dl>
          <form method="post" action={`/ops/rollout/${id}/${state.paused ? 'resume' : 'pause'}`} class="actions">
            <CsrfField c={c} />
            <button type="submit" class={state.paused ? undefined : 'danger'}>
              {state.paused ? o.resume : o.pause}
            </button>
          </form>
          <Wave title={o.pilots} clinicIds={pilots} n={0} />
          {waves.map((w, i) => (
            <Wave title={o.wave(i + 1)} clinicIds={w} n={i + 1} />
          ))}
        </Layout>,
      );
    }),
  );

  for (const action of ['pause', 'resume'] as const) {
    web.post(
      `/ops/rollout/:id/${action}`,
      opsOnly,
      checkCsrf,
      page(async (c) => {
        const id = programId(c);
        await programs.setPaused(asApi(c), id, action === 'pause');
        // The signal is in the program's history at once; its Query shows it after the next workflow task, a moment later.
        for (let i = 0; i < 30; i++) {
          if ((await programs.state(id)).state.paused === (action === 'pause')) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        return c.redirect(`/ops/rollout/${id}?done=${action === 'pause' ? 'paused' : 'resumed'}`, 303);
      }),
    );
  }
}
