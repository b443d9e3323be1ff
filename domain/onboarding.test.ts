import {
  DEFAULT_ONBOARDING_POLICY,
  MAX_ESCALATIONS,
  ONBOARDING_STAGES,
  TASK_TEMPLATES,
  computeProgress,
  fhirTask,
  initialTasks,
  mayComplete,
  nextEquipmentStep,
  nextStage,
  nextTaskAlarm,
  processStatus,
  stageTasks,
  trainingComplete,
  type OnboardingState,
  type TaskView,
} from './onboarding';

const state = (over: Partial<OnboardingState> = {}): OnboardingState => ({
  clinicId: 'c1',
  stage: 'preparation',
  tasks: initialTasks(),
  blockers: [],
  incidents: [],
  equipment: { total: 0, installed: 0 },
  staff: { total: 0, certified: 0 },
  pilotRound: 0,
  pilotMetrics: null,
  awaitingDecision: false,
  decisions: [],
  ...over,
});
const open = (over: Partial<TaskView> = {}): TaskView => ({
  key: 'infrastructure-survey',
  stage: 'preparation',
  title: 't',
  owner: 'ops',
  status: 'open',
  deadlineAt: null,
  reminded: false,
  escalations: 0,
  completedBy: null,
  ...over,
});

describe('onboarding stages and tasks', () => {
  test('stages run preparation → training → pilot → live, and live is the end', () => {
    expect(ONBOARDING_STAGES).toEqual(['preparation', 'training', 'pilot', 'live']);
    expect(nextStage('preparation')).toBe('training');
    expect(nextStage('pilot')).toBe('live');
    expect(nextStage('live')).toBeNull();
  });

  test('every stage but go-live has tasks, each with an owner, and keys are unique', () => {
    expect(stageTasks('preparation').map((t) => t.key)).toEqual([
      'infrastructure-survey',
      'equipment-procurement',
      'system-adaptation',
      'registry-migration',
      'process-unification',
    ]);
    expect(stageTasks('training').map((t) => t.key)).toEqual(['staff-training']);
    expect(stageTasks('pilot').map((t) => t.key)).toEqual(['pilot-metrics', 'go-live-decision']);
    expect(stageTasks('live')).toEqual([]);
    expect(new Set(TASK_TEMPLATES.map((t) => t.key)).size).toBe(TASK_TEMPLATES.length);
  });

  test("a task is completed by its owner's role or an admin; system tasks by no one", () => {
    expect(mayComplete('ops', 'ops')).toBe(true);
    expect(mayComplete('admin', 'ops')).toBe(false);
    expect(mayComplete('ops', 'admin')).toBe(true);
    expect(mayComplete('system', 'ops')).toBe(false);
  });

  test('production policy: deadlines in weeks, reminder before them, nine in ten staff certified', () => {
    expect(DEFAULT_ONBOARDING_POLICY.taskDeadlineSeconds.preparation).toBe(30 * 86_400);
    expect(DEFAULT_ONBOARDING_POLICY.reminderLeadSeconds).toBeLessThan(DEFAULT_ONBOARDING_POLICY.taskDeadlineSeconds.training);
    expect(DEFAULT_ONBOARDING_POLICY.certifiedShare).toBe(0.9);
  });

  test('equipment goes ordered → delivered → installed', () => {
    expect(nextEquipmentStep({ ordered: false, delivered: false, installed: false })).toBe('ordered');
    expect(nextEquipmentStep({ ordered: true, delivered: false, installed: false })).toBe('delivered');
    expect(nextEquipmentStep({ ordered: true, delivered: true, installed: false })).toBe('installed');
    expect(nextEquipmentStep({ ordered: true, delivered: true, installed: true })).toBeNull();
  });

  test('training completes at the policy share of staff certified, rounding up', () => {
    expect(trainingComplete({ total: 10, certified: 8 }, 0.9)).toBe(false);
    expect(trainingComplete({ total: 10, certified: 9 }, 0.9)).toBe(true);
    expect(trainingComplete({ total: 3, certified: 2 }, 0.9)).toBe(false);
    expect(trainingComplete({ total: 0, certified: 0 }, 0.9)).toBe(false);
    expect(trainingComplete({ total: 0, certified: 0 }, 0)).toBe(true);
  });
});

describe('reminders and escalation', () => {
  const policy = { ...DEFAULT_ONBOARDING_POLICY, reminderLeadSeconds: 10, escalationStepSeconds: 5 };
  const deadline = '2026-12-01T00:00:00.000Z';
  const at = (s: number) => Date.parse(deadline) + s * 1000;

  test('the owner is reminded before the deadline, then escalations follow at each step until the last', () => {
    expect(nextTaskAlarm(open({ deadlineAt: deadline }), policy)).toEqual({ kind: 'reminder', at: at(-10) });
    expect(nextTaskAlarm(open({ deadlineAt: deadline, reminded: true }), policy)).toEqual({ kind: 'escalation', at: at(0) });
    expect(nextTaskAlarm(open({ deadlineAt: deadline, reminded: true, escalations: 2 }), policy)).toEqual({
      kind: 'escalation',
      at: at(10),
    });
    expect(nextTaskAlarm(open({ deadlineAt: deadline, reminded: true, escalations: MAX_ESCALATIONS }), policy)).toBeNull();
  });

  test('a done task or one without a deadline has no alarm', () => {
    expect(nextTaskAlarm(open({ deadlineAt: deadline, status: 'done' }), policy)).toBeNull();
    expect(nextTaskAlarm(open(), policy)).toBeNull();
  });
});

describe('progress', () => {
  test('counts tasks done overall and in the stage, open blockers and overdue tasks', () => {
    const tasks = initialTasks().map((t) =>
      t.key === 'infrastructure-survey' ? { ...t, status: 'done' as const } : t.key === 'registry-migration' ? { ...t, escalations: 1 } : t,
    );
    expect(computeProgress(state({ tasks }))).toEqual({
      clinicId: 'c1',
      stage: 'preparation',
      tasksDone: 1,
      tasksTotal: 8,
      stageTasksDone: 1,
      stageTasksTotal: 5,
      openBlockers: 0,
      overdueTasks: ['registry-migration'],
      status: 'overdue',
    });
  });

  test('status: blocked beats overdue beats awaiting a decision; live is live', () => {
    const overdue = initialTasks().map((t, i) => (i === 0 ? { ...t, escalations: 1 } : t));
    expect(processStatus(state({ tasks: overdue, blockers: [{ id: 'b', stage: 'preparation', description: 'x' }] }))).toBe('blocked');
    expect(processStatus(state({ tasks: overdue, awaitingDecision: true }))).toBe('overdue');
    expect(processStatus(state({ stage: 'pilot', awaitingDecision: true }))).toBe('awaiting-decision');
    expect(processStatus(state({ stage: 'live' }))).toBe('live');
    expect(processStatus(state())).toBe('on-track');
  });
});

describe('FHIR Task status and businessStatus', () => {
  const ctx = { stage: 'preparation' as const, blocked: false };
  test('a done task is completed', () => {
    expect(fhirTask(open({ status: 'done' }), ctx)).toEqual({ status: 'completed', businessStatus: { text: 'done' } });
  });
  test('an open task of the current stage is in progress: on track, reminded or overdue', () => {
    expect(fhirTask(open(), ctx)).toEqual({ status: 'in-progress', businessStatus: { text: 'on-track' } });
    expect(fhirTask(open({ reminded: true }), ctx)).toEqual({ status: 'in-progress', businessStatus: { text: 'reminded' } });
    expect(fhirTask(open({ reminded: true, escalations: 1 }), ctx)).toEqual({ status: 'in-progress', businessStatus: { text: 'overdue' } });
  });
  test('a blocked stage puts its open tasks on hold', () => {
    expect(fhirTask(open(), { ...ctx, blocked: true })).toEqual({ status: 'on-hold', businessStatus: { text: 'blocked' } });
  });
  test("a later stage's task is requested; an earlier stage's open task was skipped", () => {
    expect(fhirTask(open({ stage: 'pilot' }), ctx)).toEqual({ status: 'requested', businessStatus: { text: 'not-started' } });
    expect(fhirTask(open(), { stage: 'training', blocked: false })).toEqual({ status: 'cancelled', businessStatus: { text: 'skipped' } });
  });
});
