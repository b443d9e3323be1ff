/**
 * Refresh and ID tokens are sealed before they go into web_sessions (AES-256-GCM, a key derived from
 * PAYLOAD_KEY by HKDF for this one use): a copy of the table does not hand out the provider's tokens.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const keyFor = (payloadKey: string) =>
  Buffer.from(hkdfSync('sha256', Buffer.from(payloadKey, 'base64'), Buffer.alloc(0), 'web-session-oidc-tokens', 32));

export function sealToken(payloadKey: string, token: string | null): string | null {
  if (token === null) return null;
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyFor(payloadKey), iv);
  const sealed = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
  return `v1.${Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url')}`;
}

/** The token, or null when there is none or it does not open with this key. */
export function openToken(payloadKey: string, sealed: string | null): string | null {
  if (!sealed?.startsWith('v1.')) return null;
  try {
    const raw = Buffer.from(sealed.slice(3), 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', keyFor(payloadKey), raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}
