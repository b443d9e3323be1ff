/**
 * `TEMPORAL_MODE=server npm start`: the production temporal-server (built once, or from
 * TEMPORAL_SERVER_PATH / TEMPORAL_SQL_TOOL_PATH as .ci/run exports them) on the embedded Postgres,
 * with the config docker-compose.yml uses. A patient books, confirms and reads one appointment
 * through the HTTP API; its workflow is then found in the server's Postgres visibility store by
 * search attribute, and the history store has the configured shards. A restart reuses the schemas.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { startEngineProcess, type EngineProcess } from '../bench/engine-process';
import { eventually } from './helpers';

type Json = Record<string, any>;
const jwtPayload = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Json;

async function query<T extends pg.QueryResultRow>(
  postgresUrl: string,
  database: string,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: postgresUrl.replace(/\/clinical$/, `/${database}`) });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

describe('npm start with the production Temporal server (TEMPORAL_MODE=server)', () => {
  // Our own folder, so stop() keeps it for the restart.
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'clinical-server-mode-'));
  let engine: EngineProcess | undefined;

  afterAll(async () => {
    await engine?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 120_000);

  test('books, confirms and reads an appointment; the workflow is in the server by search attribute', async () => {
    engine = await startEngineProcess({ temporalMode: 'server', dataDir, timeoutMs: 900_000 });
    expect(engine.output()).toContain('Temporal UI   none: the production server has no UI');
    expect(engine.output()).toMatch(/Temporal schemas: temporal new → \d+\.\d+, temporal_visibility new → \d+\.\d+/);

    const { baseUrl, tokens } = engine;
    const patient = tokens.patient!;
    const patientId = jwtPayload(patient).pid as string;
    const auth = { authorization: `Bearer ${patient}` };
    const from = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const to = new Date(Date.now() + 8 * 86_400_000).toISOString().slice(0, 10);
    const slots = (await (await fetch(`${baseUrl}/slots?from=${from}&to=${to}&limit=50`, { headers: auth })).json()) as Json;
    const slot = (slots.slots as Json[]).find((s) => Date.parse(s.startsAt) > Date.now() + 3600_000);
    expect(slot).toBeDefined();

    const booked = await fetch(`${baseUrl}/appointments`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', 'idempotency-key': 'temporal-server-test-1' },
      body: JSON.stringify({ slotId: slot!.id, patientId }),
    });
    const appointment = (await booked.json()) as Json;
    expect([booked.status, appointment.status, appointment.slotId]).toEqual([201, 'held', slot!.id]);

    const confirmed = await fetch(`${baseUrl}/appointments/${appointment.id}/confirm`, { method: 'POST', headers: auth });
    expect([confirmed.status, ((await confirmed.json()) as Json).status]).toEqual([200, 'booked']);
    const read = (await (await fetch(`${baseUrl}/appointments/${appointment.id}`, { headers: auth })).json()) as Json;
    expect([read.id, read.status]).toEqual([appointment.id, 'booked']);

    // Visibility is eventually consistent: the list by search attribute finds the booking's workflow.
    const workflowId = `booking-${appointment.id}`;
    const connection = await Connection.connect({ address: engine.temporalAddress });
    try {
      const client = new Client({ connection, namespace: 'default' });
      const found = await eventually(
        async () => {
          const ids: string[] = [];
          for await (const wf of client.workflow.list({ query: `PatientId = '${patientId}'` })) ids.push(wf.workflowId);
          return ids.includes(workflowId) ? ids : undefined;
        },
        60_000,
        `${workflowId} listed by PatientId`,
      );
      expect(found).toContain(workflowId);
    } finally {
      await connection.close();
    }

    // It is the real server on Postgres: the visibility row and the history shards are there.
    const visible = await query<{ workflow_id: string }>(
      engine.postgresUrl,
      'temporal_visibility',
      'SELECT workflow_id FROM executions_visibility WHERE workflow_id = $1',
      [workflowId],
    );
    expect(visible.map((r) => r.workflow_id)).toEqual([workflowId]);
    const shards = await query<{ n: string }>(engine.postgresUrl, 'temporal', 'SELECT count(*) AS n FROM shards');
    expect(Number(shards[0]!.n)).toBe(4);

    // A restart on the same data finds the schemas at their version and the appointment still booked.
    expect(await engine.stop()).toBe(0);
    engine = await startEngineProcess({ temporalMode: 'server', dataDir, timeoutMs: 300_000 });
    expect(engine.output()).toMatch(/Temporal schemas: temporal at \d+\.\d+, temporal_visibility at \d+\.\d+/);
    const again = (await (
      await fetch(`${engine.baseUrl}/appointments/${appointment.id}`, { headers: { authorization: `Bearer ${engine.tokens.patient!}` } })
    ).json()) as Json;
    expect([again.id, again.status]).toEqual([appointment.id, 'booked']);
  }, 1_200_000);
});
