/** What every router is built from: its dependencies and a router with the shared validation hook. */
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Client } from '@temporalio/client';
import type { Db } from '../db';
import type { AccessAuditEntry } from '../db/audit';
import type { Config } from '../platform/config';
import type { Logger } from '../platform/logger';
import type { AuthEnv } from './auth';
import { validationHook } from './errors';

export interface ApiDeps {
  config: Config;
  db: Db;
  temporal: Client;
  logger: Logger;
}

/** Per request: the caller, the request id, and the accesses to patient data noted for the audit (api/access.ts). */
export type AppEnv = { Variables: AuthEnv['Variables'] & { accessAudit?: AccessAuditEntry[] } };

/** A router with the shared validation hook, so every process's router reports errors alike. */
export function newRouter() {
  return new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
}
