import { bannerLines, shownPath } from './banner';

const base = { seconds: 4.2, apiUrl: 'http://127.0.0.1:3000', temporalAddress: '127.0.0.1:7233', cwd: '/home/me/engine' };

describe('the npm start banner', () => {
  test('prints the real log and data folders when DATA_DIR points outside the project', () => {
    const text = bannerLines({
      ...base,
      dataDir: '/srv/clinical',
      logDir: '/srv/clinical/logs',
      demo: { tokens: { admin: 't' }, file: '/srv/clinical/demo-tokens.json' },
    }).join('\n');
    expect(text).toContain('Logs          /srv/clinical/logs/');
    expect(text).toContain('also in /srv/clinical/demo-tokens.json;');
    expect(text).not.toContain('.data');
  });

  test('prints the default folders relative to the project', () => {
    const text = bannerLines({
      ...base,
      dataDir: '/home/me/engine/.data',
      logDir: '/home/me/engine/.data/logs',
      demo: { tokens: { admin: 't' }, file: '/home/me/engine/.data/demo-tokens.json' },
    }).join('\n');
    expect(text).toContain('Logs          .data/logs/');
    expect(text).toContain('also in .data/demo-tokens.json;');
    expect(text).toContain('  admin      t');
  });

  test('prints no tokens without the demo, and says how to get one', () => {
    const text = bannerLines({ ...base, dataDir: '/srv/clinical', logDir: '/srv/clinical/logs' }).join('\n');
    expect(text).not.toContain('Demo bearer tokens');
    expect(text).toContain('npm run token');
    expect(text).toContain('--demo');
  });

  test('shows a path inside the working folder relative, one outside absolute', () => {
    expect(shownPath('/a/b/c', '/a/b')).toBe('c');
    expect(shownPath('/a/x', '/a/b')).toBe('/a/x');
  });
});
