/**
 * Keeps `npm start`'s processes (the two workers and the API) running: a child that dies is
 * restarted after a backoff (0.5 s doubling to 10 s while it keeps dying fast), the others stay
 * up, and only repeated fast failures (5 exits within 60 s) make it give up. Its own lines name
 * the process, its exit code or signal and the restart count, nothing else: a child's output goes
 * only to that child's log file, so no patient data reaches the console through it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';

export interface ChildSpec {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Appended to across restarts; without it the child's output is discarded. */
  logFile?: string;
}

export interface RestartPolicy {
  /** The first restart's delay; doubled for each further fast exit in a row, up to maxDelayMs. */
  initialDelayMs: number;
  maxDelayMs: number;
  /** A child that ran this long before it died starts again at initialDelayMs. */
  stableAfterMs: number;
  /** Give up when a child exits this many times within windowMs. */
  maxExits: number;
  windowMs: number;
  /** How long a child may drain after SIGTERM before it is killed. */
  stopTimeoutMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  initialDelayMs: 500,
  maxDelayMs: 10_000,
  stableAfterMs: 60_000,
  maxExits: 5,
  windowMs: 60_000,
  stopTimeoutMs: 15_000,
};

export interface ExitRecord {
  /** When the child exited (ms). */
  at: number;
  /** How long it had run. */
  ranMs: number;
}

export type RestartDecision = { action: 'restart'; delayMs: number } | { action: 'give-up'; exitsInWindow: number };

/** Pure: what to do after a child's exit, given its exits so far (the latest last). */
export function decideRestart(exits: ExitRecord[], policy: RestartPolicy): RestartDecision {
  const latest = exits[exits.length - 1];
  if (!latest) throw new Error('decideRestart needs the exit that just happened');
  const exitsInWindow = exits.filter((e) => latest.at - e.at < policy.windowMs).length;
  if (exitsInWindow >= policy.maxExits) return { action: 'give-up', exitsInWindow };
  let fastInARow = 0;
  for (let i = exits.length - 1; i >= 0; i--) {
    fastInARow++;
    if (exits[i]!.ranMs >= policy.stableAfterMs) break;
  }
  return { action: 'restart', delayMs: Math.min(policy.initialDelayMs * 2 ** (fastInARow - 1), policy.maxDelayMs) };
}

interface Supervised {
  spec: ChildSpec;
  child?: ChildProcess;
  startedAt: number;
  exits: ExitRecord[];
  restarts: number;
  timer?: NodeJS.Timeout;
  log?: WriteStream;
}

export interface SupervisorOptions {
  say: (line: string) => void;
  /** Called once when a child keeps failing; the caller stops everything. */
  onGiveUp: (name: string) => void;
  /** Called with the children's pids after every start and exit. */
  onChange?: (pids: Record<string, number | undefined>) => void;
  policy?: RestartPolicy;
}

export class Supervisor {
  private readonly children: Supervised[];
  private readonly policy: RestartPolicy;
  private stopping = false;

  constructor(
    specs: ChildSpec[],
    private readonly opts: SupervisorOptions,
  ) {
    this.policy = opts.policy ?? DEFAULT_RESTART_POLICY;
    this.children = specs.map((spec) => ({
      spec,
      startedAt: 0,
      exits: [],
      restarts: 0,
      log: spec.logFile ? createWriteStream(spec.logFile, { flags: 'a' }) : undefined,
    }));
    // A log that cannot be written (a full disk) loses lines; it must not take the supervisor down with it.
    for (const s of this.children)
      s.log?.on('error', (err: NodeJS.ErrnoException) =>
        this.opts.say(`${s.spec.name}: its log file cannot be written (${err.code ?? err.name}); its output is dropped`),
      );
  }

  start(): void {
    for (const s of this.children) this.launch(s);
  }

  /** The running children's pids by name (undefined while one waits for its restart). */
  pids(): Record<string, number | undefined> {
    return Object.fromEntries(this.children.map((s) => [s.spec.name, s.child?.pid]));
  }

  /** Stops restarting, then SIGTERM to every child (SIGKILL after stopTimeoutMs), and waits. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const s of this.children) clearTimeout(s.timer);
    await Promise.all(this.children.map((s) => (s.child ? stopChild(s.child, this.policy.stopTimeoutMs) : undefined)));
    await Promise.all(this.children.map((s) => new Promise<void>((resolve) => (s.log ? s.log.end(resolve) : resolve()))));
  }

  private launch(s: Supervised): void {
    const child = spawn(s.spec.command, s.spec.args, { env: s.spec.env, cwd: s.spec.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [child.stdout!, child.stderr!]) {
      if (s.log) stream.pipe(s.log, { end: false });
      else stream.resume();
    }
    s.child = child;
    s.startedAt = Date.now();
    let gone = false;
    const onGone = (how: string) => {
      if (gone) return;
      gone = true;
      this.exited(s, child, how);
    };
    child.once('exit', (code, signal) => onGone(signal ? `signal ${signal}` : `code ${code}`));
    // A child that could not be spawned at all (e.g. no such command) may never emit 'exit'.
    child.once('error', (err: NodeJS.ErrnoException) => onGone(`spawn error ${err.code ?? err.name}`));
    this.opts.onChange?.(this.pids());
  }

  private exited(s: Supervised, child: ChildProcess, how: string): void {
    if (s.child !== child) return;
    s.child = undefined;
    if (this.stopping) return;
    const now = Date.now();
    s.exits = [...s.exits, { at: now, ranMs: now - s.startedAt }].slice(-2 * this.policy.maxExits);
    this.opts.onChange?.(this.pids());
    const decision = decideRestart(s.exits, this.policy);
    if (decision.action === 'give-up') {
      this.opts.say(
        `${s.spec.name} exited (${how}); ${decision.exitsInWindow} exits within ${this.policy.windowMs / 1000} s: giving up, stopping everything`,
      );
      this.opts.onGiveUp(s.spec.name);
      return;
    }
    s.restarts++;
    this.opts.say(`${s.spec.name} exited (${how}); restarting in ${decision.delayMs / 1000} s (restart ${s.restarts})`);
    s.timer = setTimeout(() => {
      s.timer = undefined;
      if (!this.stopping) this.launch(s);
    }, decision.delayMs);
  }
}

/** SIGTERM, then SIGKILL after timeoutMs; resolves once the child has exited. */
export function stopChild(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
