/**
 * The recorded histories in tests/histories: the TEST-ONLY payload key they are encrypted with,
 * the data converter that reads them, and JSON ⇄ History in the format of
 * `temporal workflow show --output json` (protobuf's canonical JSON).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { DataConverter } from '@temporalio/common';
import { historyFromJSON as sdkHistoryFromJSON, historyToJSON as sdkHistoryToJSON } from '@temporalio/common/lib/proto-utils';
import type * as proto from '@temporalio/proto';
import { EncryptionCodec } from '../../platform/codec';
import { FAILURE_CONVERTER_PATH } from '../../platform/temporal';

type History = proto.temporal.api.history.v1.IHistory;

export const HISTORIES_DIR = __dirname;

/**
 * TEST ONLY. The key the committed histories' payloads are encrypted with, so they hold no
 * readable patient data yet can be replayed. Never configure it anywhere but the recorder and
 * the replay test: anyone can read it here.
 */
export const REPLAY_TEST_PAYLOAD_KEY_ID = 'replay-test-only';
export const REPLAY_TEST_PAYLOAD_KEY = 'UgeO5uFVfPfeFGT26MAipSbneidEYnPjemu17mLBGcc=';

/** The production converter (platform/temporal.ts dataConverter) with the test key. */
export function replayDataConverter(): DataConverter {
  return {
    payloadCodecs: [EncryptionCodec.fromBase64(REPLAY_TEST_PAYLOAD_KEY_ID, REPLAY_TEST_PAYLOAD_KEY)],
    failureConverterPath: FAILURE_CONVERTER_PATH,
  };
}

/**
 * The SDK's own loader. It needs one protobufjs for @temporalio/common and @temporalio/proto: npm
 * used to hoist a protobufjs 7 for @grpc/proto-loader and push an 8.x copy under each, and then
 * protojson's `instanceof Type` failed with "type must be a Type". package.json's
 * `"overrides": { "protobufjs": "8.8.1" }` keeps them one copy (tests/replay.test.ts checks it).
 */
export const historyFromJSON = (json: unknown): History => sdkHistoryFromJSON(json);
export const historyToJSON = (history: History): string => sdkHistoryToJSON(history);

/** True when the SDK and its proto package load the same protobufjs (the override is installed). */
export function oneProtobufjs(): boolean {
  const from = (pkg: string) =>
    require.resolve('protobufjs/ext/protojson', { paths: [path.dirname(require.resolve(`${pkg}/package.json`))] });
  return from('@temporalio/common') === from('@temporalio/proto');
}

/** Every recorded history, by file name (`<workflowType>-<path>.json`). */
export function recordedHistories(): Array<{ file: string; history: History }> {
  return readdirSync(HISTORIES_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, history: historyFromJSON(JSON.parse(readFileSync(path.join(HISTORIES_DIR, file), 'utf8'))) }));
}
