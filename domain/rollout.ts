/**
 * The city rollout program's vocabulary: pilots first, then the other clinics in waves with a
 * limit on how many onboard at once; its policy, state carried across continue-as-new, and the
 * dashboard's counts. Pure: no I/O.
 */
import { DEFAULT_ONBOARDING_POLICY, ONBOARDING_STAGES, type OnboardingPolicy, type OnboardingStage } from './onboarding';

export interface RolloutPolicy {
  /** How many non-pilot clinics onboard at once. */
  maxConcurrent: number;
  /** The program continues as new after this many history events (or when Temporal suggests it). */
  continueAsNewEvents: number;
  onboarding: OnboardingPolicy;
}

export const DEFAULT_ROLLOUT_POLICY: RolloutPolicy = Object.freeze({
  maxConcurrent: 10,
  continueAsNewEvents: 2000,
  onboarding: DEFAULT_ONBOARDING_POLICY,
});

export const rolloutWorkflowId = (programId: string) => `rollout-${programId}`;

export type ProgramPhase = 'pilots' | 'waves' | 'done';

export interface ClinicProgress {
  stage: OnboardingStage | 'queued';
  /** Has overdue tasks (escalated) or open blockers: behind its schedule. */
  behind: boolean;
  pilot: boolean;
}

export interface RolloutState {
  programId: string;
  phase: ProgramPhase;
  paused: boolean;
  /** Clinics in the order they join: pilots first. */
  clinics: Record<string, ClinicProgress>;
  /** Non-pilot clinics not yet started, in order. */
  queue: string[];
  /** Onboarding processes started so far (pilots included). */
  started: number;
  /** Runs before this one (continue-as-new). */
  runs: number;
}

export interface RolloutInput {
  programId: string;
  pilotClinicIds: string[];
  clinicIds: string[];
  policy: RolloutPolicy;
  /** Carried across continue-as-new. */
  state?: RolloutState;
}

export interface StageReport {
  clinicId: string;
  stage: OnboardingStage;
  behind: boolean;
}

export function initialRolloutState(input: Pick<RolloutInput, 'programId' | 'pilotClinicIds' | 'clinicIds'>): RolloutState {
  const clinics: Record<string, ClinicProgress> = {};
  for (const id of input.pilotClinicIds) clinics[id] = { stage: 'queued', behind: false, pilot: true };
  const queue: string[] = [];
  for (const id of input.clinicIds) {
    if (clinics[id]) continue;
    clinics[id] = { stage: 'queued', behind: false, pilot: false };
    queue.push(id);
  }
  return { programId: input.programId, phase: 'pilots', paused: false, clinics, queue, started: 0, runs: 0 };
}

/** Clinics onboarding now (started, not live). */
export function running(state: RolloutState, pilot?: boolean): string[] {
  return Object.entries(state.clinics)
    .filter(([, c]) => c.stage !== 'queued' && c.stage !== 'live' && (pilot === undefined || c.pilot === pilot))
    .map(([id]) => id);
}

export const pilotsLive = (state: RolloutState) =>
  Object.values(state.clinics)
    .filter((c) => c.pilot)
    .every((c) => c.stage === 'live');

/** The clinics to start now: none while paused or before the pilots are live; else up to the free places. */
export function nextToStart(state: RolloutState, maxConcurrent: number): string[] {
  if (state.paused || state.phase !== 'waves') return [];
  const free = Math.max(0, maxConcurrent - running(state, false).length);
  return state.queue.slice(0, free);
}

/** The waves a list of clinics will run in with this limit (for the plan shown on the dashboard). */
export function planWaves(clinicIds: readonly string[], maxConcurrent: number): string[][] {
  if (maxConcurrent < 1) throw new Error('maxConcurrent must be at least 1');
  const waves: string[][] = [];
  for (let i = 0; i < clinicIds.length; i += maxConcurrent) waves.push(clinicIds.slice(i, i + maxConcurrent));
  return waves;
}

export interface RolloutDashboard {
  programId: string;
  phase: ProgramPhase;
  paused: boolean;
  total: number;
  perStage: Record<OnboardingStage | 'queued', number>;
  behindSchedule: string[];
  pilots: string[];
  runs: number;
}

export function rolloutDashboard(state: RolloutState): RolloutDashboard {
  const perStage = Object.fromEntries([...ONBOARDING_STAGES, 'queued'].map((s) => [s, 0])) as Record<OnboardingStage | 'queued', number>;
  for (const c of Object.values(state.clinics)) perStage[c.stage]++;
  return {
    programId: state.programId,
    phase: state.phase,
    paused: state.paused,
    total: Object.keys(state.clinics).length,
    perStage,
    behindSchedule: Object.entries(state.clinics)
      .filter(([, c]) => c.behind && c.stage !== 'live')
      .map(([id]) => id),
    pilots: Object.entries(state.clinics)
      .filter(([, c]) => c.pilot)
      .map(([id]) => id),
    runs: state.runs,
  };
}

export type OnboardingPolicyOverrides = Partial<Omit<OnboardingPolicy, 'taskDeadlineSeconds'>> & {
  taskDeadlineSeconds?: Partial<OnboardingPolicy['taskDeadlineSeconds']>;
};
export type RolloutPolicyOverrides = Partial<Omit<RolloutPolicy, 'onboarding'>> & { onboarding?: OnboardingPolicyOverrides };

/** The production onboarding policy with some durations overridden (tests and benches pass seconds). */
export function onboardingPolicyWith(o: OnboardingPolicyOverrides = {}): OnboardingPolicy {
  return {
    ...DEFAULT_ONBOARDING_POLICY,
    ...o,
    taskDeadlineSeconds: { ...DEFAULT_ONBOARDING_POLICY.taskDeadlineSeconds, ...o.taskDeadlineSeconds },
  };
}

export function rolloutPolicyWith(o: RolloutPolicyOverrides = {}): RolloutPolicy {
  return { ...DEFAULT_ROLLOUT_POLICY, ...o, onboarding: onboardingPolicyWith(o.onboarding) };
}
