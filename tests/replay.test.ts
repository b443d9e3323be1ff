/**
 * Replay safety for processes that outlive a deploy (a booking lives up to 60 days): every history
 * recorded from released code (tests/histories, written by tests/histories/record.ts) must replay
 * against the workflow bundle built from this checkout, with the same data and failure converters.
 * A change that would make a running execution nondeterministic fails here, naming the file.
 * Needs no server: the global setup's bundle only.
 */
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { oneProtobufjs, recordedHistories, replayDataConverter } from './histories/history-files';
import { processMetricsSinks } from '../workers/metrics';
import * as bundleEntryPoint from '../workflows';

/** Every workflow type the bundle exports (workflows/index.ts): each needs at least one recorded history. */
const bundledWorkflowTypes = Object.entries(bundleEntryPoint)
  .filter(([name, value]) => typeof value === 'function' && name.endsWith('Workflow'))
  .map(([name]) => name)
  .sort();

const histories = recordedHistories();
const startedAttributes = (history: (typeof histories)[number]['history']) => history.events?.[0]?.workflowExecutionStartedEventAttributes;

beforeAll(() => {
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // already installed in this jest worker
  }
});

describe('histories recorded from released workflow code', () => {
  test("load with the SDK's own loader: one protobufjs is installed (package.json overrides)", () => {
    expect(oneProtobufjs()).toBe(true);
  });

  test('cover every workflow the bundle exports (a new workflow needs its recorded paths)', () => {
    expect(bundledWorkflowTypes.length).toBeGreaterThanOrEqual(9);
    const types = new Set(histories.map(({ history }) => startedAttributes(history)?.workflowType?.name));
    expect([...types].sort()).toEqual(bundledWorkflowTypes);
    for (const { file, history } of histories) expect(`${file}: ${history.events?.length ?? 0} events`).toMatch(/: ([1-9]\d*) events$/);
  });

  test('replay against the current bundle without nondeterminism', async () => {
    const failed: string[] = [];
    // The real workflow id (from the started event), as a workflow may read workflowInfo().workflowId;
    // results come back one per history, in order, so each is named by its file.
    const results = Worker.runReplayHistories(
      {
        workflowBundle: { codePath: process.env.WORKFLOW_BUNDLE_PATH! },
        dataConverter: replayDataConverter(),
        replayName: 'recorded-histories',
        sinks: processMetricsSinks(),
      },
      histories.map(({ file, history }) => ({ workflowId: startedAttributes(history)?.workflowId || file, history })),
    );
    let i = 0;
    for await (const result of results) {
      const { file } = histories[i++]!;
      if (result.error) failed.push(`${file}: ${result.error.name}: ${result.error.message}`);
    }
    expect(i).toBe(histories.length);
    expect(failed).toEqual([]);
  });
});
