/**
 * Keeps npm start's Temporal server and embedded Postgres up, as the supervisor keeps the workers
 * and the API: each is watched by its port, and one that stopped answering is started again on
 * the same data (same backoff and give-up rule as the supervisor: local-stack/supervisor.ts).
 * The API and the workers reconnect on their own once it is back.
 */
import { decideRestart, DEFAULT_RESTART_POLICY, type ExitRecord, type RestartPolicy } from './supervisor';
import { portInUse } from '../platform/ports';

export interface StoppablePart {
  stop(): Promise<void>;
}

export interface KeepUpOptions<T extends StoppablePart> {
  /** As the console names it: "temporal", "postgres". */
  name: string;
  port: number;
  first: T;
  /** Starts the part again on the same data and port. */
  start: () => Promise<T>;
  say: (line: string) => void;
  /** Called once when the part keeps failing; the caller stops everything. */
  onGiveUp: (name: string) => void;
  policy?: RestartPolicy;
  /** How often the port is checked. */
  pollMs?: number;
}

export class KeptUp<T extends StoppablePart> {
  private current: T | undefined;
  private stopping = false;
  private timer: NodeJS.Timeout | undefined;
  private startedAt = Date.now();
  private exits: ExitRecord[] = [];
  private restarts = 0;
  private restarting: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly opts: KeepUpOptions<T>) {
    this.current = opts.first;
    this.schedule(opts.pollMs ?? 1000);
  }

  /** Stops watching (a shutdown under way must not start it again); the part keeps running. */
  freeze(): void {
    this.stopping = true;
    clearTimeout(this.timer);
    this.wake?.();
  }

  /** Stops watching, waits for a start under way, then stops the part. */
  async stop(): Promise<void> {
    this.freeze();
    await this.restarting;
    await this.current?.stop();
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => void this.check(), ms);
    this.timer.unref();
  }

  private async check(): Promise<void> {
    if (this.stopping) return;
    if (await portInUse(this.opts.port)) {
      this.schedule(this.opts.pollMs ?? 1000);
      return;
    }
    if (this.stopping) return;
    const policy = this.opts.policy ?? DEFAULT_RESTART_POLICY;
    const now = Date.now();
    this.exits = [...this.exits, { at: now, ranMs: now - this.startedAt }].slice(-2 * policy.maxExits);
    const decision = decideRestart(this.exits, policy);
    if (decision.action === 'give-up') {
      this.opts.say(
        `${this.opts.name} stopped answering on port ${this.opts.port}; ${decision.exitsInWindow} times within ${policy.windowMs / 1000} s: giving up, stopping everything`,
      );
      this.opts.onGiveUp(this.opts.name);
      return;
    }
    this.restarts++;
    this.opts.say(
      `${this.opts.name} stopped answering on port ${this.opts.port}; starting it again in ${decision.delayMs / 1000} s (restart ${this.restarts})`,
    );
    this.restarting = this.restart(decision.delayMs);
    await this.restarting;
    this.restarting = undefined;
  }

  private async restart(delayMs: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delayMs);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wake = undefined;
    if (this.stopping) return;
    // What is left of the old one (a handle, a library's exit hooks) goes first; bounded, as it is gone.
    const old = this.current;
    this.current = undefined;
    await Promise.race([old?.stop().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
    try {
      this.current = await this.opts.start();
      this.startedAt = Date.now();
      this.opts.say(`${this.opts.name} is back on port ${this.opts.port}`);
    } catch (err) {
      this.opts.say(`${this.opts.name} did not start again: ${err instanceof Error ? err.message : String(err)}`);
      this.startedAt = Date.now();
    }
    if (!this.stopping) this.schedule(0);
  }
}
