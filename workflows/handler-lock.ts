/**
 * One lock for a workflow's message handlers and its main loop, so that Updates, signals and
 * timers take turns on the process's records (Temporal's `safe-message-handlers` sample). The
 * sample uses async-mutex's `runExclusive`; this is the same call on the workflow's own
 * `condition()`, step for step how the released workflows waited, so their running executions
 * replay alike without a patch (tests/replay.test.ts).
 */
import { condition } from '@temporalio/workflow';

export interface LockSteps {
  /** Awaited before queueing for the lock (onboarding: until the process has begun). */
  before?: () => Promise<unknown>;
  /** Runs once the lock is released, before the holder's caller goes on (onboarding: publish the new state). */
  afterRelease?: () => Promise<unknown>;
}

export class HandlerLock {
  private held = false;

  constructor(private readonly steps: LockSteps = {}) {}

  /** Runs fn once no other holder runs; waiters go on in the order they came. */
  async runExclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.steps.before) await this.steps.before();
    // A loop, not one wait: every waiter wakes in the same activation, and only one may go on.
    while (this.held) await condition(() => !this.held);
    this.held = true;
    try {
      return await fn();
    } finally {
      this.held = false;
      if (this.steps.afterRelease) await this.steps.afterRelease();
    }
  }
}
