#!/usr/bin/env node
// The NestJS 12 smoke test, outside jest: NestJS 12 is ES modules only (jest,
// which runs the suite as CommonJS, cannot load it) and its @nestjs/common
// needs Node 22 (its file-type dependency declares node >=22). So it runs on
// the Node 22 and 24 legs of CI (scripts/test-matrix.sh with NODE_MAJOR), not
// on the machine's Node 20, where tests/integration/nestjs.test.ts covers
// NestJS 11.
//
// As scripts/test-package.js does: packs the library (prepack builds dist/),
// installs the tarball into a scratch app, here .tmp/nest-smoke/app, together
// with @nestjs/common, @nestjs/core, @nestjs/typeorm and
// @nestjs/platform-express at NEST_MAJOR (default 12) from the registry (npm
// checks them against the library's peer ranges), links typeorm, sqlite3,
// reflect-metadata and rxjs to this repository's node_modules (sqlite3 is
// already built for the Node running this), and runs app.mjs there: a Nest
// app with EventActionsModule on SQLite that saves an entity through its
// _eventAction and has a rule refuse one. Exits non-zero on any mismatch.
//
//   node scripts/nest-smoke/run.mjs    Node 22.12 or later (require() of ES modules)
//   KEEP_SCRATCH=1                     keeps .tmp/nest-smoke for inspection
//   NEST_MAJOR=13                      another NestJS major (default 12)
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, '..', '..')
const scratch = path.join(root, '.tmp', 'nest-smoke')
const app = path.join(scratch, 'app')
const NEST_MAJOR = process.env.NEST_MAJOR ?? '12'
const NEST = ['@nestjs/common', '@nestjs/core', '@nestjs/typeorm', '@nestjs/platform-express']
// Linked, not installed: the versions this repository tests with, and sqlite3 without a compile.
const PEERS = ['typeorm', 'sqlite3', 'reflect-metadata', 'rxjs']
const started = Date.now()

function fail(message) {
  console.error(`nest-smoke: FAIL  ${message}`)
  process.exit(1)
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', ...options })
  if (result.error) fail(`${command} ${args.join(' ')}: ${result.error.message}`)
  if (result.status !== 0) {
    fail(`${command} ${args.join(' ')} exited with ${result.status ?? result.signal}\n${result.stdout}${result.stderr}`)
  }
  return result
}

// Node 22 for Nest 12 (@nestjs/common's file-type), 22.12 for require() of an ES module.
const [nodeMajor, nodeMinor] = process.versions.node.split('.').map(Number)
if (nodeMajor < 22 || (nodeMajor === 22 && nodeMinor < 12)) {
  fail(`NestJS ${NEST_MAJOR} with this CommonJS library needs Node 22.12 or later; this is Node ${process.version}`)
}
for (const peer of PEERS) {
  if (!fs.existsSync(path.join(root, 'node_modules', peer))) fail(`${peer} is not in ${root}/node_modules: run npm ci first`)
}

fs.rmSync(scratch, { recursive: true, force: true })
fs.mkdirSync(app, { recursive: true })

const packed = run('npm', ['pack', '--pack-destination', scratch, '--json', '--loglevel=error'], { cwd: root })
const tarball = path.join(scratch, JSON.parse(packed.stdout)[0].filename)

fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'nest-smoke-app', private: true }, null, 2))
// Without --legacy-peer-deps: npm checks the peer ranges, so a NestJS major outside the
// library's peerDependencies fails here (ERESOLVE). --ignore-scripts: nothing here needs one.
run(
  'npm',
  ['install', '--no-save', '--no-package-lock', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error',
    tarball, ...NEST.map((name) => `${name}@${NEST_MAJOR}`)],
  { cwd: app },
)
// The peers npm fetched (typeorm, reflect-metadata, rxjs) give way to this repository's.
for (const peer of PEERS) {
  const link = path.join(app, 'node_modules', peer)
  fs.rmSync(link, { recursive: true, force: true })
  fs.mkdirSync(path.dirname(link), { recursive: true })
  fs.symlinkSync(path.join(root, 'node_modules', peer), link, 'junction')
}
console.log(`nest-smoke: installed in ${((Date.now() - started) / 1000).toFixed(1)} s`)

// The scratch app sits inside this repository, whose node_modules has NestJS 11: make sure every
// Nest package resolves to the one installed for the app, at the major asked for.
for (const name of NEST) {
  const manifest = path.join(app, 'node_modules', name, 'package.json')
  if (!fs.existsSync(manifest)) fail(`${name} was not installed into ${app}`)
  const { version } = JSON.parse(fs.readFileSync(manifest, 'utf8'))
  if (version.split('.')[0] !== NEST_MAJOR) fail(`${name} ${version} installed, not ${NEST_MAJOR}.x`)
}

fs.copyFileSync(path.join(here, 'app.mjs'), path.join(app, 'app.mjs'))
const result = spawnSync(process.execPath, ['app.mjs'], { cwd: app, encoding: 'utf8', timeout: 120_000 })
process.stdout.write(result.stdout)
process.stderr.write(result.stderr)
if (result.error) fail(`app.mjs: ${result.error.message}`)
// An app whose promises never settle exits 0 without finishing.
if (result.status !== 0 || !result.stdout.includes('nest smoke ok')) fail(`app.mjs exited with ${result.status ?? result.signal}`)

if (process.env.KEEP_SCRATCH !== '1') fs.rmSync(scratch, { recursive: true, force: true })
console.log(`nest-smoke: ok on Node ${process.version}, NestJS ${NEST_MAJOR}, in ${((Date.now() - started) / 1000).toFixed(1)} s`)
