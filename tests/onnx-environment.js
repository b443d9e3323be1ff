/**
 * Jest's node environment with the host's typed-array constructors. onnxruntime-node's native
 * code returns output tensors built in the host realm, and onnxruntime-common checks them with
 * `instanceof Float32Array` inside the test's VM realm, which fails under the stock environment.
 * It is every test file's environment (jest.config.js): any int test's in-process cds worker may
 * serve activities started by another test file, since jest workers share the `cds` task queue.
 */
const { TestEnvironment } = require('jest-environment-node');

const TYPED_ARRAYS = [
  'Float32Array',
  'Float64Array',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'BigInt64Array',
  'BigUint64Array',
];

class OnnxEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of TYPED_ARRAYS) this.global[name] = globalThis[name];
  }
}

module.exports = OnnxEnvironment;
