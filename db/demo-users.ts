/**
 * The embedded demo's users, one per role: `npm start` mints a bearer token for each
 * (local-stack/demo.ts) and the pages' demo sign-in (web/) signs in as one of them.
 */
import { demoId } from './seed';
import type { Caller } from '../platform/tokens';

export const DEMO_CALLERS: Caller[] = [
  { id: 'demo-patient', role: 'patient', patientId: demoId('patient:0') },
  { id: 'demo-registrar', role: 'registrar', clinicId: demoId('clinic:PC-01') },
  { id: 'demo-doctor', role: 'doctor', practitionerId: demoId('practitioner:PC-01:0') },
  { id: 'demo-lab', role: 'lab', clinicId: demoId('clinic:PC-01') },
  { id: 'demo-ops', role: 'ops' },
  { id: 'demo-admin', role: 'admin' },
];
