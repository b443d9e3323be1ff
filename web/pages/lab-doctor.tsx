/** The lab bench and the doctor's tablet (part 2): one call from web/index.ts mounts them all. */
import type { Hono } from 'hono';
import type { ApiDeps } from '../../api/router';
import type { WebEnv } from '../env';
import { doctorInboxPages } from './doctor-inbox';
import { doctorRecordPages } from './doctor-record';
import { doctorReferralPages } from './doctor-referral';
import { labPages } from './lab';
import { labMessagePages } from './lab-messages';

export function labDoctorPages(web: Hono<WebEnv>, deps: ApiDeps) {
  labPages(web, deps);
  labMessagePages(web, deps);
  doctorInboxPages(web, deps);
  doctorRecordPages(web, deps);
  doctorReferralPages(web, deps);
}
