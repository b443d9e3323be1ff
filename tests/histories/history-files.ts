/**
 * The recorded histories in tests/histories: the TEST-ONLY payload key they are encrypted with,
 * the data converter that reads them, and JSON ⇄ History in the format of
 * `temporal workflow show --output json` (protobuf's canonical JSON).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { DataConverter } from '@temporalio/common';
import { historyFromJSON as sdkHistoryFromJSON, historyToJSON as sdkHistoryToJSON } from '@temporalio/common/lib/proto-utils';
import * as proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';
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
 * The SDK's converters (historyFromJSON/historyToJSON) call protobufjs' protojson from the copy
 * @temporalio/common depends on, with a reflected type built by the copy @temporalio/proto
 * depends on. When npm installs two copies (it does here: a protobufjs 7 hoisted for
 * @grpc/proto-loader pushes both 8.x copies down under each package), protojson's
 * `instanceof Type` fails with "type must be a Type". The `"overrides": { "protobufjs": "8.8.1" }`
 * entry in package.json makes them one copy; until an install has it, the same conversion runs
 * with protojson from @temporalio/proto's own copy (constant-case enum names only, which is what
 * the recorder and `temporal workflow show --output json` write).
 */
const SDK_PROTOBUFJS = resolveFrom('@temporalio/common', 'protobufjs/ext/protojson');
const PROTO_PROTOBUFJS = resolveFrom('@temporalio/proto', 'protobufjs/ext/protojson');
const ONE_PROTOBUFJS = SDK_PROTOBUFJS === PROTO_PROTOBUFJS;

function resolveFrom(pkg: string, request: string): string {
  return require.resolve(request, { paths: [path.dirname(require.resolve(`${pkg}/package.json`))] });
}

interface ProtoJson {
  fromJson(type: unknown, json: unknown, options?: { ignoreUnknownFields?: boolean }): History | null;
  toJson(type: unknown, message: unknown): unknown;
}
let sameCopy: { protojson: ProtoJson; historyType: unknown } | undefined;
function protoCopy() {
  if (!sameCopy) {
    const protojson = require(PROTO_PROTOBUFJS) as ProtoJson;
    const root = patchProtobufRoot(proto) as unknown as { lookupType(name: string): unknown };
    sameCopy = { protojson, historyType: root.lookupType('temporal.api.history.v1.History') };
  }
  return sameCopy;
}

export function historyFromJSON(json: unknown): History {
  if (ONE_PROTOBUFJS) return sdkHistoryFromJSON(json);
  const { protojson, historyType } = protoCopy();
  const history = protojson.fromJson(historyType, json, { ignoreUnknownFields: true });
  if (!history) throw new TypeError('Invalid history');
  return history;
}

export function historyToJSON(history: History): string {
  if (ONE_PROTOBUFJS) return sdkHistoryToJSON(history);
  const { protojson, historyType } = protoCopy();
  return JSON.stringify(protojson.toJson(historyType, proto.temporal.api.history.v1.History.fromObject(history)), null, 2);
}

/** Every recorded history, by file name (`<workflowType>-<path>.json`). */
export function recordedHistories(): Array<{ file: string; history: History }> {
  return readdirSync(HISTORIES_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, history: historyFromJSON(JSON.parse(readFileSync(path.join(HISTORIES_DIR, file), 'utf8'))) }));
}
