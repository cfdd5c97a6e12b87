/**
 * Tests mirror the source tree under test/. Real processes and sockets: generous timeouts, one
 * worker. The end-to-end and network suites run three hosts, three sidecars and Chromium each;
 * two of them at once on this 2-core machine starve each other's watchers and syncs into
 * timeouts (seen in clean-clone CI runs), and one worker finishes the suite in about 8 minutes.
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { diagnostics: false }],
  },
  testTimeout: 60000,
  maxWorkers: 1,
};
