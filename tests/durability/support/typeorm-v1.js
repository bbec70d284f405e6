// Under TYPEORM=1 the spawned CLI gets no jest moduleNameMapper: this preload
// (node -r) maps `typeorm` to the `typeorm-v1` alias the same way, so that the
// CLI, the fixtures and the library all run on TypeORM 1.x.
const Module = require('node:module')
const path = require('node:path')

const target = path.join(__dirname, '..', '..', '..', 'node_modules', 'typeorm-v1')
const resolve = Module._resolveFilename
Module._resolveFilename = function (request, ...rest) {
  if (request === 'typeorm' || request.startsWith('typeorm/')) request = target + request.slice('typeorm'.length)
  return resolve.call(this, request, ...rest)
}
