// Jest runs each test file in its own V8 context, but onnxruntime-node's native binding creates output typed
// arrays in the main context, so onnxruntime-common's `data instanceof Float32Array` checks fail inside jest.
// This environment gives the test context the main context's typed-array constructors.
// jest.config.js makes it the environment of every test file.
const { TestEnvironment } = require('jest-environment-node');

const SHARED = ['ArrayBuffer', 'SharedArrayBuffer', 'DataView', 'Float32Array', 'Float64Array', 'Int8Array', 'Uint8Array',
  'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array', 'BigInt64Array', 'BigUint64Array'];

class OrtEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) this.global[name] = globalThis[name];
  }
}
module.exports = OrtEnvironment;
