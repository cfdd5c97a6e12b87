/** Tests mirror the source tree under test/. Real processes and sockets: generous timeouts, serial-ish workers (2 cores). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { diagnostics: false }],
    // chokidar 5 and readdirp 5 ship only ESM; Node can require() them, jest's module loader cannot.
    '/node_modules/(chokidar|readdirp)/.+\\.js$': ['ts-jest', { diagnostics: false, tsconfig: { allowJs: true, module: 'commonjs', isolatedModules: true } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(chokidar|readdirp)/)'],
  testTimeout: 60000,
  maxWorkers: 2,
};
