/**
 * The keyed digest that joins a CDS request's patient and inputs into its assessment key, so a
 * reused hookInstance with another patient or other values is another assessment. Opaque (no
 * readable patient data) and stable for the installation.
 */
import { createHmac } from 'node:crypto';
import type { Config } from '../platform/config';

export function cdsRequestDigest(config: Pick<Config, 'AUTH_SECRET'>, value: unknown): string {
  return createHmac('sha256', config.AUTH_SECRET).update(JSON.stringify(value)).digest('hex').slice(0, 16);
}
