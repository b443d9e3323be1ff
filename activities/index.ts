/** All activities the clinical worker serves, built from their dependencies. */
import type { Db } from '../db';
import { createBookingActivities } from './booking';
import { createCdsAssessmentActivities } from './cds-assessment';
import { createOnboardingActivities } from './onboarding';
import { createReferralActivities } from './referral';
import { createLabOrderActivities } from './lab-order';
import { createNotifyActivities, type NotifyDeps } from './notify';
import { createOfferHoldActivities } from './offer-hold';
import { createMailSender } from './notify-channels';
import { createSelfTestActivities } from './self-test';
import { createSlotHorizonActivities } from './slot-horizon';

export interface ClinicalDeps {
  db: Db;
  /** Message transports (workers/notify.ts); absent: log-only e-mail, no SMS. */
  notify?: Omit<NotifyDeps, 'db'>;
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
    ...createOfferHoldActivities(deps),
    ...createNotifyActivities({
      db: deps.db,
      ...(deps.notify ?? {
        mail: createMailSender({ smtpUrl: undefined, from: 'no-reply@clinic.local' }),
        sms: null,
        publicBaseUrl: 'http://127.0.0.1:3000',
      }),
    }),
  };
}
