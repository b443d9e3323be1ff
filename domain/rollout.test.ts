import { DEFAULT_ONBOARDING_POLICY } from './onboarding';
import { initialRolloutState, nextToStart, pilotsLive, planWaves, rolloutDashboard, rolloutPolicyWith, running } from './rollout';

const base = () => initialRolloutState({ programId: 'p', pilotClinicIds: ['a', 'b'], clinicIds: ['a', 'c', 'd', 'e', 'f'] });

describe('the rollout program', () => {
  test('pilots are not queued again among the other clinics', () => {
    const s = base();
    expect(s.queue).toEqual(['c', 'd', 'e', 'f']);
    expect(Object.keys(s.clinics)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(s.clinics.a).toEqual({ stage: 'queued', behind: false, pilot: true });
  });

  test('no one starts before the pilots are live, and never more than the limit at once', () => {
    const s = base();
    expect(nextToStart(s, 2)).toEqual([]);
    s.clinics.a!.stage = 'live';
    expect(pilotsLive(s)).toBe(false);
    s.clinics.b!.stage = 'live';
    expect(pilotsLive(s)).toBe(true);
    s.phase = 'waves';
    expect(nextToStart(s, 2)).toEqual(['c', 'd']);
    s.clinics.c!.stage = 'training';
    s.queue.shift();
    expect(running(s, false)).toEqual(['c']);
    expect(nextToStart(s, 2)).toEqual(['d']);
    s.paused = true;
    expect(nextToStart(s, 2)).toEqual([]);
  });

  test('waves are planned in chunks of the limit', () => {
    expect(planWaves(['a', 'b', 'c', 'd', 'e'], 2)).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(() => planWaves(['a'], 0)).toThrow();
  });

  test('the dashboard counts clinics per stage and lists those behind schedule', () => {
    const s = base();
    s.clinics.a = { stage: 'pilot', behind: true, pilot: true };
    s.clinics.b = { stage: 'live', behind: true, pilot: true };
    const d = rolloutDashboard(s);
    expect(d.perStage).toEqual({ preparation: 0, training: 0, pilot: 1, live: 1, queued: 4 });
    expect(d.behindSchedule).toEqual(['a']);
    expect(d.total).toBe(6);
  });

  test('policy overrides keep the production defaults they do not name', () => {
    const p = rolloutPolicyWith({ maxConcurrent: 3, onboarding: { taskDeadlineSeconds: { pilot: 5 } } });
    expect(p.maxConcurrent).toBe(3);
    expect(p.onboarding.taskDeadlineSeconds).toEqual({ ...DEFAULT_ONBOARDING_POLICY.taskDeadlineSeconds, pilot: 5 });
    expect(p.onboarding.certifiedShare).toBe(DEFAULT_ONBOARDING_POLICY.certifiedShare);
  });
});
