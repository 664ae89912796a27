// Jest runs in native ESM mode (Nest 12 is ESM-only); @swc/jest strips types and keeps
// decorator metadata so Nest's DI works in tests exactly as in the built app.
const swcOptions = {
  swcrc: false,
  sourceMaps: 'inline',
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2023',
    keepClassNames: true,
  },
  module: { type: 'es6' },
};

/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', swcOptions] },
  moduleNameMapper: {
    '^@rocketnest/(broker|rocketmq|idempotency)$': '<rootDir>/libs/$1/src/index.ts',
    '^@rocketnest/(broker|rocketmq|idempotency)/(.*)\\.js$': '<rootDir>/libs/$1/src/$2.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testMatch: ['<rootDir>/{libs,apps,test}/**/*.spec.ts', '<rootDir>/{libs,apps,test}/**/*.e2e.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  testTimeout: 60_000,
  maxWorkers: 2,
};
