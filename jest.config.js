// One suite, every database: DB=sqlite|postgres|mariadb picks the database,
// TYPEORM=1 runs the same suite on TypeORM 1.x (installed as the npm alias
// `typeorm-v1`, with better-sqlite3 as its SQLite driver).
const typeorm1 = process.env.TYPEORM === '1'

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': 'ts-jest' },
  moduleNameMapper: typeorm1
    ? {
        '^typeorm$': '<rootDir>/node_modules/typeorm-v1',
        '^typeorm/(.*)$': '<rootDir>/node_modules/typeorm-v1/$1',
      }
    : {},
  setupFiles: ['reflect-metadata'],
  // The server databases are shared: test files run one after another.
  maxWorkers: 1,
  testTimeout: 60000,
}
