/** Every workflow the clinical worker runs (the bundle's entry point). */
export { selfTestWorkflow } from './self-test';
export { cdsAssessmentWorkflow } from './cds';
export { bookingWorkflow } from './booking';
export { lapsedHoldsWorkflow, slotHorizonWorkflow } from './slot-horizon';
export { onboardingWorkflow } from './onboarding';
export { rolloutProgramWorkflow } from './rollout';
export { referralWorkflow } from './referral';
export { labOrderWorkflow } from './lab-order';
export { notifyWorkflow } from './notify';
