import { openToken, sealToken } from './oidc-token-seal';

const KEY = Buffer.alloc(32, 3).toString('base64');

test('a sealed refresh token opens with the same key only, and never shows in the stored text', () => {
  const sealed = sealToken(KEY, 'refresh-token-value')!;
  expect(sealed).not.toContain('refresh-token-value');
  expect(openToken(KEY, sealed)).toBe('refresh-token-value');
  expect(openToken(Buffer.alloc(32, 4).toString('base64'), sealed)).toBeNull();
  expect(openToken(KEY, 'plain-text')).toBeNull();
  expect(sealToken(KEY, null)).toBeNull();
});
