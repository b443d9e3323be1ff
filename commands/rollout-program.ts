/**
 * A rollout program's creation as one command: the program's row and the outbox row that starts
 * its process (with the process's input) commit in one transaction. The API validates, checks
 * access, calls this and answers from what committed; the clinical worker's relay
 * (workers/outbox-program.ts) starts the program's workflow.
 */
import type { Insertable } from 'kysely';
import type { Db } from '../db';
import type { RolloutProgramsTable } from '../db/schema';
import type { RolloutInput } from '../domain/rollout';
import { tell } from './outbox';
import { commandTransaction } from './tx';

export interface CreateRolloutProgramCommand {
  program: Insertable<RolloutProgramsTable> & { id: string; workflow_id: string };
  /** What the process starts with: the clinics and the very policy the row was written with. */
  input: RolloutInput;
  taskQueue: string;
}

export interface CommittedProgram {
  id: string;
  workflowId: string;
  created: boolean;
}

/**
 * Writes the program's row and its process's start once. The same id again (a retried request)
 * writes nothing and answers the row the first call committed (`created` false).
 */
export async function createRolloutProgram(db: Db, cmd: CreateRolloutProgramCommand): Promise<CommittedProgram> {
  return commandTransaction(db, async (tx) => {
    const inserted = await tx
      .insertInto('rollout_programs')
      .values(cmd.program)
      // No target: the same request side by side meets the first one's row in the id index or in the
      // workflow_id one (both come from the key); either way it is that program, not an error.
      .onConflict((oc) => oc.doNothing())
      .returning('id')
      .executeTakeFirst();
    if (inserted) {
      await tell(tx, {
        taskQueue: cmd.taskQueue,
        workflowId: cmd.program.workflow_id,
        process: 'rollout',
        kind: 'start',
        subjectId: cmd.program.id,
        payload: { input: cmd.input },
      });
    }
    const row = await tx
      .selectFrom('rollout_programs')
      .select(['id', 'workflow_id'])
      .where('id', '=', cmd.program.id)
      .executeTakeFirstOrThrow();
    return { id: row.id, workflowId: row.workflow_id, created: inserted !== undefined };
  });
}
