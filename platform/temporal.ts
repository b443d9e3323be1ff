/**
 * Temporal connections for the API and the workers: one data converter, so every payload
 * is encrypted the same way on both sides.
 */
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection } from '@temporalio/worker';
import { EncryptionCodec } from './codec';
import type { Config } from './config';
import { startCountingInterceptor } from './metrics';

export { CLINICAL_TASK_QUEUE, CDS_TASK_QUEUE } from '../domain/task-queues';

/** Bundled with the workflows (bundleWorkflowCode's failureConverterPath) and loaded by clients. */
export const FAILURE_CONVERTER_PATH = require.resolve('./failure-converter');

export function dataConverter(config: Config): DataConverter {
  return {
    payloadCodecs: [payloadCodec(config)],
    failureConverterPath: FAILURE_CONVERTER_PATH,
  };
}

/** The current key encrypts; retired keys (PAYLOAD_KEYS_RETIRED) still decrypt older payloads. */
export function payloadCodec(config: Config): EncryptionCodec {
  const keys = new Map<string, Buffer>(config.PAYLOAD_KEYS_RETIRED.map(({ id, key }) => [id, Buffer.from(key, 'base64')]));
  keys.set(config.PAYLOAD_KEY_ID, Buffer.from(config.PAYLOAD_KEY, 'base64'));
  return new EncryptionCodec(keys, config.PAYLOAD_KEY_ID);
}

export function temporalAddress(config: Config): string {
  return config.TEMPORAL_ADDRESS ?? `127.0.0.1:${config.TEMPORAL_DEV_PORT}`;
}

/** A client for starting, signalling, updating and querying workflows. */
export async function connectClient(config: Config): Promise<Client> {
  const connection = await Connection.connect({ address: temporalAddress(config) });
  return new Client({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    dataConverter: dataConverter(config),
    interceptors: { workflow: [startCountingInterceptor()] },
  });
}

/** The connection a worker polls its task queue on. */
export function connectWorker(config: Config): Promise<NativeConnection> {
  return NativeConnection.connect({ address: temporalAddress(config) });
}
