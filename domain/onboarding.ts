/**
 * Clinic onboarding's vocabulary, shared by every layer: the stages a clinic goes through, the
 * task templates of each stage with their owners, the policy with production defaults, progress,
 * and the FHIR Task mapping. Pure: no I/O, no clock (callers pass "now").
 */

export const ONBOARDING_STAGES = ['preparation', 'training', 'pilot', 'live'] as const;
export type OnboardingStage = (typeof ONBOARDING_STAGES)[number];

/** Stages in which the clinic is bookable (the booking process offers and accepts its slots). */
export const BOOKABLE_STAGES: readonly OnboardingStage[] = ['pilot', 'live'];

/** Who owns a task: the role that may complete it (admin may complete any). */
export type OwnerRole = 'ops' | 'admin' | 'system';

export interface TaskTemplate {
  key: string;
  stage: OnboardingStage;
  title: string;
  owner: OwnerRole;
  /** Completed by the process itself once its condition holds (equipment installed, staff certified, metrics gathered). */
  automatic?: boolean;
}

/** The onboarding tasks, in order. */
export const TASK_TEMPLATES: readonly TaskTemplate[] = Object.freeze([
  {
    key: 'infrastructure-survey',
    stage: 'preparation',
    title: 'Infrastructure survey: network, workstations, tablets for doctors',
    owner: 'ops',
  },
  {
    key: 'equipment-procurement',
    stage: 'preparation',
    title: 'Equipment procurement: every item ordered, delivered and installed',
    owner: 'ops',
    automatic: true,
  },
  {
    key: 'system-adaptation',
    stage: 'preparation',
    title: 'System adaptation: departments, rooms, practitioners and schedules loaded and checked',
    owner: 'ops',
  },
  { key: 'registry-migration', stage: 'preparation', title: 'Patient registry migrated, counts reconciled', owner: 'ops' },
  { key: 'process-unification', stage: 'preparation', title: 'Process unification checklist signed off', owner: 'admin' },
  {
    key: 'staff-training',
    stage: 'training',
    title: 'Staff trained for their roles; policy share certified',
    owner: 'ops',
    automatic: true,
  },
  { key: 'pilot-metrics', stage: 'pilot', title: 'Pilot metrics gathered over the pilot period', owner: 'system', automatic: true },
  { key: 'go-live-decision', stage: 'pilot', title: 'Go / no-go decision by the program office', owner: 'admin' },
] as const satisfies readonly TaskTemplate[]);

export const taskTemplate = (key: string) => TASK_TEMPLATES.find((t) => t.key === key);
export const stageTasks = (stage: OnboardingStage) => TASK_TEMPLATES.filter((t) => t.stage === stage);

/** Durations in seconds, so tests can pass seconds. */
export interface OnboardingPolicy {
  /** Each stage's tasks are due this long after the stage starts (pilot: after the metrics are in). */
  taskDeadlineSeconds: Record<Exclude<OnboardingStage, 'live'>, number>;
  /** How long before a task's deadline its owner is reminded. */
  reminderLeadSeconds: number;
  /** How long after the deadline an overdue task is escalated again (to the program office). */
  escalationStepSeconds: number;
  /** Share of the clinic's staff certified for the training stage to complete (0..1). */
  certifiedShare: number;
  /** How long pilot metrics are gathered before the go / no-go decision. */
  pilotPeriodSeconds: number;
}

/** Production defaults: the one place they are written. */
export const DEFAULT_ONBOARDING_POLICY: OnboardingPolicy = Object.freeze({
  taskDeadlineSeconds: { preparation: 30 * 86_400, training: 14 * 86_400, pilot: 7 * 86_400 },
  reminderLeadSeconds: 3 * 86_400,
  escalationStepSeconds: 2 * 86_400,
  certifiedShare: 0.9,
  pilotPeriodSeconds: 14 * 86_400,
});

export const onboardingWorkflowId = (clinicId: string) => `onboarding-${clinicId}`;

export type TaskStatus = 'open' | 'done';

export interface TaskView {
  key: string;
  stage: OnboardingStage;
  title: string;
  owner: OwnerRole;
  status: TaskStatus;
  deadlineAt: string | null;
  reminded: boolean;
  /** Escalations so far (0 while on time). */
  escalations: number;
  completedBy: string | null;
}

export interface BlockerView {
  id: string;
  stage: OnboardingStage;
  description: string;
}

export interface IncidentView {
  id: string;
  blocking: boolean;
}

export interface PilotMetrics {
  round: number;
  appointmentsBooked: number;
  resultsDeliveredOnline: number;
  openIncidents: number;
  openBlockingIncidents: number;
}

export interface OnboardingState {
  clinicId: string;
  stage: OnboardingStage;
  tasks: TaskView[];
  blockers: BlockerView[];
  incidents: IncidentView[];
  equipment: { total: number; installed: number };
  staff: { total: number; certified: number };
  /** Pilot rounds started (a no-go starts another). */
  pilotRound: number;
  pilotMetrics: PilotMetrics | null;
  awaitingDecision: boolean;
  decisions: Array<{ decision: 'go' | 'no-go'; reason: string; by: string }>;
}

export interface OnboardingInput {
  clinicId: string;
  policy: OnboardingPolicy;
  /** The rollout program's workflow id, told of every stage change. */
  programWorkflowId?: string;
}

export interface CompleteTaskRequest {
  taskKey: string;
  by: string;
  role: string;
  expectedPatients?: number;
}
export interface BlockerRequest {
  blockerId: string;
  description: string;
  by: string;
}
export interface ResolveRequest {
  id: string;
  by: string;
}
export interface TrainingRequest {
  staffId: string;
  certified: boolean;
  by: string;
}
export interface EquipmentRequest {
  itemId: string;
  step: EquipmentStep;
  by: string;
}
export interface IncidentRequest {
  incidentId: string;
  blocking: boolean;
  description: string;
  by: string;
}
export interface DecisionRequest {
  decision: 'go' | 'no-go';
  reason: string;
  by: string;
}

export const EQUIPMENT_STEPS = ['ordered', 'delivered', 'installed'] as const;
export type EquipmentStep = (typeof EQUIPMENT_STEPS)[number];

/** The step an item may take next given the steps it has taken (ordered → delivered → installed). */
export function nextEquipmentStep(done: { ordered: boolean; delivered: boolean; installed: boolean }): EquipmentStep | null {
  if (!done.ordered) return 'ordered';
  if (!done.delivered) return 'delivered';
  if (!done.installed) return 'installed';
  return null;
}

/** The training stage completes once `share` of the staff is certified (and there is staff to certify). */
export function trainingComplete(staff: { total: number; certified: number }, share: number): boolean {
  if (staff.total === 0) return share <= 0;
  return staff.certified >= Math.ceil(share * staff.total - 1e-9);
}

/** May the actor with this role complete a task owned by `owner`? */
export function mayComplete(owner: OwnerRole, role: string): boolean {
  return role === 'admin' || (owner !== 'system' && role === owner);
}

export const nextStage = (stage: OnboardingStage): OnboardingStage | null =>
  ONBOARDING_STAGES[ONBOARDING_STAGES.indexOf(stage) + 1] ?? null;
export const stageIndex = (stage: OnboardingStage) => ONBOARDING_STAGES.indexOf(stage);

export interface Progress {
  clinicId: string;
  stage: OnboardingStage;
  tasksDone: number;
  tasksTotal: number;
  stageTasksDone: number;
  stageTasksTotal: number;
  openBlockers: number;
  overdueTasks: string[];
  /** ProcessStatus as ops filter on it. */
  status: ProcessStatus;
}

export type ProcessStatus = 'on-track' | 'overdue' | 'blocked' | 'awaiting-decision' | 'live';

/** The one status the Temporal UI shows: blocked beats overdue beats awaiting a decision. */
export function processStatus(state: Pick<OnboardingState, 'stage' | 'tasks' | 'blockers' | 'awaitingDecision'>): ProcessStatus {
  if (state.stage === 'live') return 'live';
  if (state.blockers.length > 0) return 'blocked';
  if (state.tasks.some((t) => t.status === 'open' && t.escalations > 0)) return 'overdue';
  if (state.awaitingDecision) return 'awaiting-decision';
  return 'on-track';
}

export function computeProgress(state: OnboardingState): Progress {
  const stageTasks = state.tasks.filter((t) => t.stage === state.stage);
  return {
    clinicId: state.clinicId,
    stage: state.stage,
    tasksDone: state.tasks.filter((t) => t.status === 'done').length,
    tasksTotal: state.tasks.length,
    stageTasksDone: stageTasks.filter((t) => t.status === 'done').length,
    stageTasksTotal: stageTasks.length,
    openBlockers: state.blockers.length,
    overdueTasks: state.tasks.filter((t) => t.status === 'open' && t.escalations > 0).map((t) => t.key),
    status: processStatus(state),
  };
}

/** The fresh task list: every template, open, no deadline until its stage starts. */
export function initialTasks(): TaskView[] {
  return TASK_TEMPLATES.map((t) => ({
    key: t.key,
    stage: t.stage,
    title: t.title,
    owner: t.owner,
    status: 'open',
    deadlineAt: null,
    reminded: false,
    escalations: 0,
    completedBy: null,
  }));
}

/**
 * FHIR R4 Task (http://hl7.org/fhir/R4/task.html): `status` from the Task status value set;
 * `businessStatus` carries what FHIR leaves to the business (reminded, overdue, blocked).
 */
export type FhirTaskStatus = 'requested' | 'in-progress' | 'on-hold' | 'completed' | 'cancelled';

export function fhirTask(
  task: TaskView,
  ctx: { stage: OnboardingStage; blocked: boolean },
): { status: FhirTaskStatus; businessStatus: { text: string } } {
  if (task.status === 'done') return { status: 'completed', businessStatus: { text: 'done' } };
  const current = task.stage === ctx.stage;
  if (!current) {
    // A later stage's task is requested but not yet started; an earlier stage's open task was skipped.
    return stageIndex(task.stage) > stageIndex(ctx.stage)
      ? { status: 'requested', businessStatus: { text: 'not-started' } }
      : { status: 'cancelled', businessStatus: { text: 'skipped' } };
  }
  if (ctx.blocked) return { status: 'on-hold', businessStatus: { text: 'blocked' } };
  if (task.escalations > 0) return { status: 'in-progress', businessStatus: { text: 'overdue' } };
  if (task.reminded) return { status: 'in-progress', businessStatus: { text: 'reminded' } };
  return { status: 'in-progress', businessStatus: { text: 'on-track' } };
}

/** Escalation steps: the owner's lead, then the program office, then the program director. */
export const MAX_ESCALATIONS = 3;

/** Which reminder or escalation is next for an open task, and when (ms epoch); null when none is due any more. */
export function nextTaskAlarm(task: TaskView, policy: OnboardingPolicy): { kind: 'reminder' | 'escalation'; at: number } | null {
  if (task.status === 'done' || !task.deadlineAt) return null;
  const deadline = Date.parse(task.deadlineAt);
  if (!task.reminded) return { kind: 'reminder', at: deadline - policy.reminderLeadSeconds * 1000 };
  if (task.escalations >= MAX_ESCALATIONS) return null;
  return { kind: 'escalation', at: deadline + task.escalations * policy.escalationStepSeconds * 1000 };
}
