/**
 * Temporal as the checker sees it: the workflows of a type (running, or in any state), one
 * workflow's description, and the namespace's retention. Listings come from visibility, which lags
 * a little behind; every disagreement a rule finds is confirmed with describe() before it is
 * reported, so visibility lag never makes a violation.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';

export interface ListedWorkflow {
  workflowId: string;
  startTime: Date;
  status: string;
}

export interface Described {
  status: string;
  startTime: Date;
  closeTime: Date | null;
  /** Activity types scheduled and not yet finished. */
  pendingActivities: string[];
  /** A workflow task is waiting for (or held by) a worker. */
  pendingWorkflowTask: boolean;
}

export interface TemporalView {
  running(workflowType: string): Promise<Map<string, ListedWorkflow>>;
  /** Every execution of the type that the namespace still keeps, whatever its state. */
  all(workflowType: string): Promise<Map<string, ListedWorkflow>>;
  /** null: no such workflow (never started, or removed after the retention period). */
  describe(workflowId: string): Promise<Described | null>;
  /** How long closed workflows are kept; null when the namespace does not say. */
  retentionMs(): Promise<number | null>;
}

export function temporalView(temporal: Client, namespace: string, taskQueue: string | null): TemporalView {
  const lists = new Map<string, Promise<Map<string, ListedWorkflow>>>();
  const described = new Map<string, Promise<Described | null>>();
  let retention: Promise<number | null> | undefined;

  const list = (query: string) => {
    let cached = lists.get(query);
    if (!cached) {
      cached = (async () => {
        const out = new Map<string, ListedWorkflow>();
        const scoped = taskQueue ? `${query} AND TaskQueue="${taskQueue}"` : query;
        for await (const wf of temporal.workflow.list({ query: scoped })) {
          out.set(wf.workflowId, { workflowId: wf.workflowId, startTime: wf.startTime, status: wf.status.name });
        }
        return out;
      })();
      lists.set(query, cached);
    }
    return cached;
  };

  return {
    running: (type) => list(`WorkflowType="${type}" AND ExecutionStatus="Running"`),
    all: (type) => list(`WorkflowType="${type}"`),
    describe(workflowId) {
      let cached = described.get(workflowId);
      if (!cached) {
        cached = temporal.workflow
          .getHandle(workflowId)
          .describe()
          .then(
            (d) => ({
              status: d.status.name,
              startTime: d.startTime,
              closeTime: d.closeTime ?? null,
              pendingActivities: (d.raw.pendingActivities ?? []).map((a) => a.activityType?.name ?? 'unknown'),
              pendingWorkflowTask: d.raw.pendingWorkflowTask != null,
            }),
            (err: unknown) => {
              if (err instanceof WorkflowNotFoundError) return null;
              throw err;
            },
          );
        described.set(workflowId, cached);
      }
      return cached;
    },
    retentionMs() {
      retention ??= temporal.workflowService.describeNamespace({ namespace }).then((ns) => {
        const ttl = ns.config?.workflowExecutionRetentionTtl;
        return ttl?.seconds != null ? Number(ttl.seconds) * 1000 : null;
      });
      return retention;
    },
  };
}

/** Runs `fn` over `items`, at most `limit` at a time (describe calls are one RPC each). */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  });
  await Promise.all(lanes);
  return out;
}
