/**
 * A rollout program's reads and its pause / resume, shared by the JSON routes (api/onboarding/programs.ts) and
 * the ops board (web/): the row, its dashboard (a Query to the program's workflow), and the signals. The program's
 * process is started by the outbox relay behind the row's commit, so each call first waits for that start.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Context } from 'hono';
import { pauseProgramSignal, resumeProgramSignal, rolloutDashboardQuery, rolloutStateQuery } from '../../workflows/rollout';
import { ApiError, fromProcessFailure } from '../errors';
import { awaitProcessStart } from '../process-start';
import type { ApiDeps, AppEnv } from '../router';

/** How long one answer of the board's Query serves other views of the same program. */
const STATE_FRESH_MS = 1000;

export function programCommands(deps: Pick<ApiDeps, 'db' | 'temporal'>) {
  const { db, temporal } = deps;

  /** The program's row (404 if none) and its process's handle, once the relay has started it. */
  async function program(id: string) {
    const row = await db
      .selectFrom('rollout_programs')
      .select(['id', 'name', 'workflow_id', 'created_at'])
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw new ApiError(404, 'program_not_found', `Rollout program ${id} does not exist.`);
    await awaitProcessStart(db, row.workflow_id, "The program's process");
    return { row, handle: temporal.workflow.getHandle(row.workflow_id) };
  }

  const gone = (err: unknown): never => {
    if (err instanceof WorkflowNotFoundError) throw new ApiError(404, 'program_not_found', "The program's process no longer exists.");
    throw err;
  };

  /** The program's dashboard: clinics per stage, behind schedule, pilots, paused. */
  async function dashboard(id: string) {
    const { row, handle } = await program(id);
    return { ...(await handle.query(rolloutDashboardQuery).catch(gone)), name: row.name };
  }

  // The board's Query, shared: ops users opening one program's board at once ask its workflow once, and an
  // answer serves for STATE_FRESH_MS (a Query is a task on the worker, ~10× a page's own work). A pause or
  // resume drops it, so the next view asks again.
  const stateAsked = new Map<string, { at: number; answer: ReturnType<typeof askState> }>();
  async function askState(id: string) {
    const { row, handle } = await program(id);
    return { row, state: await handle.query(rolloutStateQuery).catch(gone) };
  }

  /** The program's whole state (each clinic's stage, pilot flag, the queue of waves) for the ops board. */
  function state(id: string) {
    const asked = stateAsked.get(id);
    if (asked && Date.now() - asked.at < STATE_FRESH_MS) return asked.answer;
    const answer = askState(id);
    stateAsked.set(id, { at: Date.now(), answer });
    answer.catch(() => stateAsked.delete(id));
    return answer;
  }

  /** Pause (no new clinic starts onboarding; running ones go on) or resume: a signal to the program. */
  async function setPaused(c: Context<AppEnv>, id: string, paused: boolean) {
    const { handle } = await program(id);
    stateAsked.delete(id);
    await handle
      .signal(paused ? pauseProgramSignal : resumeProgramSignal, { by: c.get('caller').id })
      .catch((err) => fromProcessFailure(err));
    stateAsked.delete(id);
    return { accepted: true as const };
  }

  return { program, dashboard, state, setPaused };
}
