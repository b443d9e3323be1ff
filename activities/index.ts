/** All activities the clinical worker serves, built from their dependencies. */
import type { Db } from '../db';
import { createSelfTestActivities } from './self-test';

export interface ClinicalDeps {
  db: Db;
}

export function createClinicalActivities(deps: ClinicalDeps) {
  return {
    ...createSelfTestActivities(deps),
  };
}
