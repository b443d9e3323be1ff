/** All activities the clinical worker serves, built from their dependencies. */
import type { Db } from '../db';
import { createBookingActivities } from './booking';
import { createCdsAssessmentActivities } from './cds-assessment';
import { createOnboardingActivities } from './onboarding';
import { createReferralActivities } from './referral';
import { createLabOrderActivities } from './lab-order';
import { createSelfTestActivities } from './self-test';
import { createSlotHorizonActivities } from './slot-horizon';

export interface ClinicalDeps {
  db: Db;
}

export function createClinicalActivities(deps: ClinicalDeps) {
  return {
    ...createSelfTestActivities(deps),
    ...createBookingActivities(deps),
    ...createSlotHorizonActivities(deps),
    ...createCdsAssessmentActivities(deps),
    ...createOnboardingActivities(deps),
    ...createReferralActivities(deps),
    ...createLabOrderActivities(deps),
  };
}
