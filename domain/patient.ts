/** The patient as every layer names it. Pure types only. */

/** FHIR AdministrativeGender, as the registry records it (patients.sex). */
export type Sex = 'female' | 'male' | 'other' | 'unknown';

/** The sexes that reference ranges and equations (eGFR) are written for; others get no sex-specific rule. */
export type ReferenceSex = Extract<Sex, 'female' | 'male'>;
