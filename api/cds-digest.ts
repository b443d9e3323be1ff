/**
 * The keyed digest that joins a CDS request's patient and inputs into its assessment key, so a
 * reused hookInstance with another patient or other values is another assessment. Opaque (no
 * readable patient data) and keyed with its own secret, CDS_DIGEST_SECRET: rotating the token
 * secret leaves assessment ids as they were.
 */
import { createHmac } from 'node:crypto';
import type { Config } from '../platform/config';

export function cdsRequestDigest(config: Pick<Config, 'CDS_DIGEST_SECRET'>, value: unknown): string {
  return createHmac('sha256', config.CDS_DIGEST_SECRET).update(JSON.stringify(value)).digest('hex').slice(0, 16);
}
