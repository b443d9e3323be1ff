/** Who calls: one role each, with the patient, practitioner and clinics a token names (platform/tokens.ts). */
export const ROLES = ['patient', 'registrar', 'doctor', 'lab', 'ops', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface Caller {
  /** Subject: a user id, never a name. */
  id: string;
  role: Role;
  patientId?: string;
  practitionerId?: string;
  /** The clinic a lab (or clinic-bound staff) token acts for. */
  clinicId?: string;
  /** Every clinic the token acts for (`cid` plus `cids`); registrars and labs are scoped to them (api/access.ts). */
  clinicIds?: string[];
}
