import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { CONFIG_KEYS } from '../platform/config';
import { ENGINE_SEARCH_ATTRIBUTES } from '../workflows/search-attributes';
import { SERVER_SETTINGS } from '../local-stack/temporal-server';
import { TEMPORAL_UI_SERVER_VERSION } from '../local-stack/temporal-ui-server';

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, unknown>;
  healthcheck?: { test: unknown };
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
  entrypoint?: string[];
}
const compose = parse(readFileSync(path.join(__dirname, '../docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};
const ENGINE = ['api', 'worker-clinical', 'worker-cds', 'migrate'];

describe('the production docker-compose.yml', () => {
  test('runs Postgres, Temporal on that Postgres, the Temporal UI, the API and both workers', () => {
    expect(Object.keys(compose.services)).toEqual(
      expect.arrayContaining(['postgres', 'temporal', 'temporal-ui', 'api', 'worker-clinical', 'worker-cds']),
    );
    expect(compose.services.temporal!.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgres' });
    expect(compose.services.temporal!.depends_on).toMatchObject({ postgres: { condition: 'service_healthy' } });
  });

  test('gives every long-running service a health check', () => {
    for (const name of ['postgres', 'temporal', 'temporal-ui', 'api', 'worker-clinical', 'worker-cds']) {
      expect([name, compose.services[name]!.healthcheck?.test]).toEqual([name, expect.anything()]);
    }
  });

  test('starts each engine process with the entry point that exists in this repository', () => {
    expect(compose.services.api!.command).toContain('api/server.ts');
    expect(compose.services['worker-clinical']!.command).toContain('workers/clinical.ts');
    expect(compose.services['worker-cds']!.command).toContain('workers/cds.ts');
    expect(compose.services.migrate!.command).toContain('db/migrate-cli.ts');
  });

  test('sets only environment variables the code reads, and every one production requires', () => {
    for (const name of ENGINE) {
      const keys = Object.keys(compose.services[name]!.environment ?? {});
      expect([name, keys.filter((k) => !CONFIG_KEYS.includes(k))]).toEqual([name, []]);
      expect(keys).toEqual(expect.arrayContaining(['NODE_ENV', 'DATABASE_URL', 'TEMPORAL_ADDRESS', 'AUTH_SECRET', 'PAYLOAD_KEY']));
      expect(compose.services[name]!.environment!.NODE_ENV).toBe('production');
    }
  });

  test('runs Temporal with the schema steps, config and settings of TEMPORAL_MODE=server (which CI tests)', () => {
    const { temporal, 'temporal-schema': schema, 'temporal-setup': setup } = compose.services;
    expect(temporal!.volumes).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\.\/docker\/temporal-server\.yaml:/),
        expect.stringMatching(/^\.\/docker\/temporal-dynamic-config\.yaml:/),
      ]),
    );
    expect(temporal!.entrypoint!.join(' ')).toContain('temporal-server --root /etc/clinical --config temporal --env clinical');
    expect(temporal!.depends_on).toMatchObject({ 'temporal-schema': { condition: 'service_completed_successfully' } });
    const { NUM_HISTORY_SHARDS, SQL_MAX_CONNS, SQL_VIS_MAX_CONNS } = SERVER_SETTINGS;
    expect(temporal!.environment).toMatchObject({
      NUM_HISTORY_SHARDS: Number(NUM_HISTORY_SHARDS),
      SQL_MAX_CONNS: Number(SQL_MAX_CONNS),
      SQL_VIS_MAX_CONNS: Number(SQL_VIS_MAX_CONNS),
    });
    const steps = schema!.command!.join(' ');
    for (const step of [
      'create-database',
      'setup-schema -v 0.0',
      'update-schema -d /etc/temporal/schema/postgresql/v12/',
      'temporal:temporal',
      'temporal_visibility:visibility',
    ])
      expect(steps).toContain(step);
    const registration = setup!.command!.join(' ');
    expect(registration).toContain(`namespace create --namespace default --retention ${SERVER_SETTINGS.retentionDays * 24}h`);
    for (const key of ENGINE_SEARCH_ATTRIBUTES) {
      expect(registration).toContain(`${key.name}:${key.type.charAt(0)}${key.type.slice(1).toLowerCase()}`);
    }
  });

  test("signs ops in to the Temporal UI at the city's provider and passes their token to the API's https /codec", () => {
    const ui = compose.services['temporal-ui']!;
    // The version tests/ui-oidc.int.test.ts runs (built from the ui-server Go module).
    expect(ui.image).toBe(`temporalio/ui:${TEMPORAL_UI_SERVER_VERSION.slice(1)}`);
    expect(ui.environment).toMatchObject({
      TEMPORAL_AUTH_ENABLED: 'true',
      TEMPORAL_AUTH_PROVIDER_URL: '${OIDC_ISSUER:?set OIDC_ISSUER}',
      TEMPORAL_AUTH_CALLBACK_URL: '${TEMPORAL_UI_URL:-http://localhost:8080}/auth/sso/callback',
      TEMPORAL_CODEC_PASS_ACCESS_TOKEN: 'true',
    });
    expect(ui.environment!.TEMPORAL_AUTH_CLIENT_ID).toMatch(/^\$\{TEMPORAL_UI_CLIENT_ID:\?/);
    expect(ui.environment!.TEMPORAL_AUTH_CLIENT_SECRET).toMatch(/^\$\{TEMPORAL_UI_CLIENT_SECRET:\?/);
    expect(ui.environment!.TEMPORAL_CODEC_ENDPOINT).toMatch(/^\$\{WEB_PUBLIC_URL:\?.*\}\/codec$/);
    expect(compose.services.api!.environment!.CORS_ORIGINS).toBe('${TEMPORAL_UI_URL:-http://localhost:8080}');
  });
});
