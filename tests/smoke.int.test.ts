import { ENCRYPTED_ENCODING } from '../platform/codec';
import { jsonRequest, startTestEngine, type TestEngine } from './helpers';

let engine: TestEngine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(async () => {
  await engine.stop();
});

describe('the engine end to end', () => {
  test('reports Postgres and Temporal up on /health', async () => {
    const res = await engine.app.request('/health');
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ status: 'ok', postgres: { up: true }, temporal: { up: true, namespace: 'default' } });
  });

  test('an ops self-test goes API → Temporal → both workers → Postgres and leaves one audit row', async () => {
    const res = await engine.app.request('/ops/self-test', jsonRequest('POST', await engine.token('ops')));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { workflowId: string; auditId: string; models: Array<{ id: string; version: string }> };
    expect(body.workflowId).toMatch(/^self-test-[0-9a-f-]{36}$/);
    // The cds worker answered with the models it loaded from models/.
    expect(body.models).toEqual(engine.registry.list().map((m) => ({ id: m.meta.id, version: m.meta.version })));

    const rows = await engine.db.selectFrom('audit_log').selectAll().where('workflow_id', '=', body.workflowId).execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actor: 'test-ops', action: 'self-test', entity: 'system', id: body.auditId });

    // What the Temporal server stored is ciphertext: ops browsing the UI see no payloads.
    const history = await engine.client.workflow.getHandle(body.workflowId).fetchHistory();
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    const payload = started?.input?.payloads?.[0];
    expect(Buffer.from(payload!.metadata!.encoding!).toString()).toBe(ENCRYPTED_ENCODING);
    expect(Buffer.from(payload!.data!).toString('latin1')).not.toContain('test-ops');

    // The codec endpoint decodes it for ops (the Temporal UI's codec server), never for a doctor.
    const asJson = {
      payloads: [
        {
          metadata: Object.fromEntries(Object.entries(payload!.metadata!).map(([k, v]) => [k, Buffer.from(v!).toString('base64')])),
          data: Buffer.from(payload!.data!).toString('base64'),
        },
      ],
    };
    const denied = await engine.app.request('/codec/decode', jsonRequest('POST', await engine.token('doctor'), asJson));
    expect(denied.status).toBe(403);
    const decoded = await engine.app.request('/codec/decode', jsonRequest('POST', await engine.token('ops'), asJson));
    expect(decoded.status).toBe(200);
    const [plain] = ((await decoded.json()) as { payloads: Array<{ data: string }> }).payloads;
    expect(JSON.parse(Buffer.from(plain!.data, 'base64').toString())).toEqual({ requestedBy: 'test-ops' });
  });

  test('refuses the self-test without a token (401) and to a patient (403), in the one error shape', async () => {
    const anonymous = await engine.app.request('/ops/self-test', jsonRequest('POST', undefined));
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toEqual({ error: { code: 'unauthenticated', message: expect.any(String) } });

    const forged = await engine.app.request('/ops/self-test', jsonRequest('POST', 'not-a-jwt'));
    expect(forged.status).toBe(401);

    const patient = await engine.app.request('/ops/self-test', jsonRequest('POST', await engine.token('patient')));
    expect(patient.status).toBe(403);
    expect(((await patient.json()) as any).error.code).toBe('forbidden');
  });

  test('answers an unknown route with 404 not_found and a request id header', async () => {
    const res = await engine.app.request('/no/such/route');
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).error.code).toBe('not_found');
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });

  test('serves the OpenAPI document and the interactive docs', async () => {
    const doc = (await (await engine.app.request('/openapi.json')).json()) as any;
    expect(doc.paths['/ops/self-test'].post.responses).toHaveProperty('403');
    expect(doc.paths['/health'].get.responses).toHaveProperty('503');
    const docs = await engine.app.request('/docs');
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('SwaggerUIBundle');
    expect((await engine.app.request('/docs/swagger-ui-bundle.js')).status).toBe(200);
  });
});
