// ESM + TypeScript: ts-jest transpiles each file on its own (isolatedModules), jest runs it as ESM
// (npm test sets --experimental-vm-modules). Imports are written with ".js" as Node ESM requires.
export default {
  // onnxruntime-node returns typed arrays from the main V8 context; this environment shares those constructors.
  testEnvironment: '<rootDir>/test/ort-environment.cjs',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.test.json' }] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testTimeout: 120000,
  maxWorkers: 2,
};
