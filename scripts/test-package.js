#!/usr/bin/env node
// npm run test:package: what a consumer of the published package gets.
//
// Packs the library as `npm publish` would (prepack builds dist/), installs the
// tarball into a scratch app in a temporary folder outside this repository, and
// there:
//   - compares the names src/index.ts exports with what the installed package
//     exports to TypeScript (its .d.ts, resolved through the exports map), to
//     require() and to import;
//   - compiles a TypeScript app and an exports check with strict and
//     skipLibCheck: false, and runs them, a CommonJS app and an ES module app
//     on SQLite (tests/package/);
//   - runs the bin with --help;
//   - installs the tarball into a second, fresh app as a user would (npm
//     fetches the required peers) and makes sure npm has no install script
//     to report for it (npm 11's allowScripts), and that the one a SQLite
//     user must allow (sqlite3's) is what the install guide (docs/install.md) says.
// Then it breaks a copy of the install on purpose (one export removed) and
// makes sure the export comparison notices, so this check cannot pass vacuously.
//
// The peers (typeorm, sqlite3, class-validator, ...) are symlinks to this
// repository's node_modules: installing them from the registry would compile
// sqlite3 from source. Only the library itself comes from the tarball.
//
// KEEP_SCRATCH=1 keeps the temporary folder for inspection.
'use strict'
const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const root = path.resolve(__dirname, '..')
const fixtures = path.join(root, 'tests', 'package')
const ts = require(path.join(root, 'node_modules', 'typescript'))
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'))
const PEERS = ['typeorm', 'sqlite3', 'reflect-metadata', 'class-validator', 'typescript', '@types/node']
const BIN = Object.keys(pkg.bin ?? {})[0]
const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall', 'prepare']
// npm's notice at the end of an install, and its policy field's name.
const SCRIPT_NOTICE = /allowScripts|install scripts/i

const started = Date.now()
const failures = []
const timings = []

function run(command, args, options = {}) {
  const result = spawnSync(command, args, {
    encoding: 'utf8',
    shell: process.platform === 'win32',
    ...options,
    env: { ...process.env, ...options.env },
  })
  if (result.error) throw result.error
  return result
}

function runOk(command, args, options) {
  const result = run(command, args, options)
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited with ${result.status}\n${result.stdout}${result.stderr}`)
  }
  return result
}

// A setup step: a failure ends the run, since nothing after it can work.
function setup(name, fn) {
  const t0 = Date.now()
  try {
    return fn()
  } finally {
    timings.push([name, Date.now() - t0])
  }
}

// A check: a failure is recorded and the other checks still run, so one report
// shows everything that is wrong with the package.
function check(name, fn) {
  const t0 = Date.now()
  try {
    fn()
    console.log(`ok    ${name}`)
  } catch (error) {
    failures.push(name)
    console.log(`FAIL  ${name}\n${indent(error instanceof Error ? error.message : String(error))}`)
  } finally {
    timings.push([name, Date.now() - t0])
  }
}

function indent(text) {
  return text.trimEnd().split('\n').map((line) => `      ${line}`).join('\n')
}

/**
 * The names a module exports, each with whether it exists at runtime (a class,
 * function, enum or constant) or only for the type checker. Works on the .ts
 * source and on the emitted .d.ts alike.
 */
function exportsOf(file) {
  const program = ts.createProgram([file], {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.Node16,
    moduleResolution: ts.ModuleResolutionKind.Node16,
    experimentalDecorators: true,
    skipLibCheck: true,
    noEmit: true,
    types: [],
  })
  const checker = program.getTypeChecker()
  const source = program.getSourceFile(file)
  if (!source) throw new Error(`${file} not found`)
  const moduleSymbol = checker.getSymbolAtLocation(source)
  if (!moduleSymbol) throw new Error(`${file} is not a module`)
  const names = new Map()
  for (const symbol of checker.getExportsOfModule(moduleSymbol)) {
    const typeOnly = (symbol.declarations ?? []).some(
      (d) => ts.isExportSpecifier(d) && (d.isTypeOnly || d.parent.parent.isTypeOnly),
    )
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol
    names.set(symbol.name, !typeOnly && (target.flags & ts.SymbolFlags.Value) !== 0)
  }
  return names
}

function valueNames(exported) {
  return [...exported].filter(([, value]) => value).map(([name]) => name).sort()
}

function compareNames(what, expected, actual) {
  const missing = expected.filter((n) => !actual.includes(n))
  const extra = actual.filter((n) => !expected.includes(n))
  if (missing.length || extra.length) {
    throw new Error(
      `${what} differ from src/index.ts` +
        (missing.length ? `\nmissing: ${missing.join(', ')}` : '') +
        (extra.length ? `\nnot exported by src/index.ts: ${extra.join(', ')}` : ''),
    )
  }
}

// The installed package's typings as a TypeScript consumer resolves them, in a
// CommonJS file, in an ES module file, and with the old node10 resolution
// (which ignores "exports" and reads "types").
function resolvedTypings(app) {
  const importer = path.join(app, 'app.ts')
  const found = []
  for (const [label, moduleResolution, mode] of [
    ['node16 require', ts.ModuleResolutionKind.Node16, ts.ModuleKind.CommonJS],
    ['node16 import', ts.ModuleResolutionKind.Node16, ts.ModuleKind.ESNext],
    ['node10', ts.ModuleResolutionKind.Node10, undefined],
  ]) {
    const options = { module: moduleResolution === ts.ModuleResolutionKind.Node10 ? ts.ModuleKind.CommonJS : ts.ModuleKind.Node16, moduleResolution }
    const resolved = ts.resolveModuleName(pkg.name, importer, options, ts.sys, undefined, undefined, mode).resolvedModule
    if (!resolved) throw new Error(`TypeScript (${label}) cannot resolve ${pkg.name} from the scratch app`)
    found.push([label, resolved.resolvedFileName])
  }
  return found
}

function checkExports(app, expected, what = '') {
  const installed = path.join(app, 'node_modules', pkg.name)
  const expectedValues = valueNames(expected)
  const expectedAll = [...expected.keys()].sort()

  check(`${what}types: the installed .d.ts exports what src/index.ts exports`, () => {
    const typings = resolvedTypings(app)
    for (const [label, file] of typings) {
      if (!fs.realpathSync(file).startsWith(fs.realpathSync(installed) + path.sep)) {
        throw new Error(`TypeScript (${label}) resolved ${pkg.name} to ${file}, outside the installed package`)
      }
    }
    const exported = exportsOf(typings[0][1])
    compareNames('type-level exports', expectedAll, [...exported.keys()].sort())
    compareNames('runtime exports in the .d.ts', expectedValues, valueNames(exported))
  })

  check(`${what}require(): exports every value src/index.ts exports`, () => {
    const out = runOk(process.execPath, [
      '-e',
      `const p = require.resolve(${JSON.stringify(pkg.name)}); const m = require(p);
       console.log(JSON.stringify({ p, keys: Object.keys(m).filter((k) => m[k] !== undefined) }))`,
    ], { cwd: app }).stdout
    const { p, keys } = JSON.parse(out)
    if (!fs.realpathSync(p).startsWith(fs.realpathSync(installed) + path.sep)) throw new Error(`require resolved ${p}`)
    compareNames('require() keys', expectedValues, keys.sort())
  })

  check(`${what}import: an ES module sees every value as a named export`, () => {
    const out = runOk(process.execPath, [
      '--input-type=module',
      '-e',
      `const m = await import(${JSON.stringify(pkg.name)});
       console.log(JSON.stringify(Object.keys(m).filter((k) => m[k] !== undefined)))`,
    ], { cwd: app }).stdout
    const keys = JSON.parse(out).filter((k) => k !== 'default' && k !== '__esModule')
    compareNames('ES module named exports', expectedValues, keys.sort())
  })
}

// Imports every export by name, values as values and types as types, so that
// tsc fails on one missing from the .d.ts or one that became type-only.
function exportsCheckSource(expected) {
  const values = valueNames(expected)
  const types = [...expected].filter(([, value]) => !value).map(([name]) => name).sort()
  return [
    '// Generated by scripts/test-package.js: every export of src/index.ts, imported from the package.',
    `import { ${values.join(', ')} } from '${pkg.name}'`,
    `import type { ${types.join(', ')} } from '${pkg.name}'`,
    `export const values: readonly unknown[] = [${values.join(', ')}]`,
    `if (values.some((v) => v === undefined)) throw new Error('an export is undefined at runtime')`,
    `console.log('package exports ok: ' + values.length + ' values')`,
    '',
  ].join('\n')
}

// What npm's install-script policy (allowScripts, npm 11) says about an app:
// the packages whose install scripts the app has not reviewed, or undefined
// on an npm without the policy.
function pendingInstallScripts(app) {
  const result = run('npm', ['install-scripts', 'ls'], { cwd: app })
  const out = result.stdout + result.stderr
  if (result.status !== 0 && /unknown command|Unknown command/i.test(out)) return undefined
  if (result.status !== 0) throw new Error(`npm install-scripts ls exited with ${result.status}\n${out}`)
  if (/No packages with unreviewed install scripts/.test(out)) return []
  return [...out.matchAll(/^\s+(\S+)@\S+ \(/gm)].map((m) => m[1])
}

function checkInstallScripts(tmp, tarball) {
  const fresh = path.join(tmp, 'fresh-app')
  check('install: the package has no install script and no dependency of its own', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(tmp, 'app', 'node_modules', pkg.name, 'package.json'), 'utf8'))
    const scripts = INSTALL_SCRIPTS.filter((name) => manifest.scripts?.[name])
    if (scripts.length) throw new Error(`the packed package.json has install scripts: ${scripts.join(', ')}`)
    const dependencies = Object.keys(manifest.dependencies ?? {})
    if (dependencies.length) throw new Error(`the packed package.json has dependencies (peers only, please): ${dependencies.join(', ')}`)
    // Its allowScripts (the repository's own, for sqlite3 and better-sqlite3) is inert here: npm reads the root project's only.
  })

  check('install: npm install <tarball> in a fresh app (peers fetched) is silent about install scripts', () => {
    fs.mkdirSync(fresh)
    fs.writeFileSync(path.join(fresh, 'package.json'), JSON.stringify({ name: 'fresh-app', private: true }, null, 2))
    const result = runOk('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: fresh })
    const out = result.stdout + result.stderr
    if (SCRIPT_NOTICE.test(out)) throw new Error(`npm install printed a notice about install scripts:\n${out}`)
    const pending = pendingInstallScripts(fresh)
    if (pending?.length) throw new Error(`npm lists unreviewed install scripts: ${pending.join(', ')}`)
  })

  check("install: sqlite3's install script is the one docs/install.md tells a SQLite user to allow", () => {
    // --ignore-scripts: compiling sqlite3 here would take minutes; npm still knows it has an install script.
    const sqlite3 = pkg.devDependencies.sqlite3
    runOk('npm', ['install', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', `sqlite3@${sqlite3}`], { cwd: fresh })
    const before = pendingInstallScripts(fresh)
    if (before === undefined) {
      console.log('      (this npm has no install-script policy: nothing to allow)')
      return
    }
    if (before.join() !== 'sqlite3') throw new Error(`expected npm to list sqlite3's install script alone, got: ${before.join(', ') || 'none'}`)
    const manifest = path.join(fresh, 'package.json')
    fs.writeFileSync(manifest, JSON.stringify({ ...JSON.parse(fs.readFileSync(manifest, 'utf8')), allowScripts: { sqlite3: true } }, null, 2))
    const after = pendingInstallScripts(fresh)
    if (after?.length) throw new Error(`with "allowScripts": { "sqlite3": true }, npm still lists: ${after.join(', ')}`)
    const guide = fs.readFileSync(path.join(root, 'docs', 'install.md'), 'utf8')
    if (!guide.includes('"allowScripts": { "sqlite3": true }')) throw new Error('docs/install.md does not show "allowScripts": { "sqlite3": true }')
  })
}

function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'typeorm-event-actions-package-'))
  const app = path.join(tmp, 'app')
  try {
    const tarball = setup('npm pack (prepack builds dist/)', () => {
      const result = runOk('npm', ['pack', '--pack-destination', tmp, '--json'], { cwd: root })
      const [info] = JSON.parse(result.stdout)
      return { file: path.join(tmp, info.filename), files: info.files.map((f) => f.path) }
    })

    check('tarball: only dist/ (compiled from src/), package.json, README, LICENSE', () => {
      const stray = tarball.files.filter((f) => !/^(dist\/.+|package\.json|README\.md|LICENSE(\.md)?)$/.test(f))
      if (stray.length) throw new Error(`unexpected files: ${stray.join(', ')}`)
      const fromElsewhere = tarball.files.filter((f) => /^dist\/(src|tests|demo|bench|examples)\//.test(f))
      if (fromElsewhere.length) throw new Error(`dist/ holds more than src/: ${fromElsewhere.slice(0, 5).join(', ')}`)
      for (const needed of ['dist/index.js', 'dist/index.d.ts', 'dist/index.js.map']) {
        if (!tarball.files.includes(needed)) throw new Error(`${needed} is missing`)
      }
      const tests = tarball.files.filter((f) => /\.test\.(js|d\.ts)$/.test(f))
      if (tests.length) throw new Error(`test files packed: ${tests.join(', ')}`)
    })

    setup('install the tarball into a scratch app', () => {
      fs.mkdirSync(app)
      fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'scratch-app', private: true }, null, 2))
      // --legacy-peer-deps: the peers are linked below instead of fetched.
      runOk('npm', ['install', '--no-save', '--no-package-lock', '--offline', '--ignore-scripts', '--legacy-peer-deps',
        '--no-audit', '--no-fund', tarball.file], { cwd: app })
      for (const peer of PEERS) {
        const link = path.join(app, 'node_modules', peer)
        fs.mkdirSync(path.dirname(link), { recursive: true })
        fs.symlinkSync(path.join(root, 'node_modules', peer), link, 'junction')
      }
    })

    const expected = exportsOf(path.join(root, 'src', 'index.ts'))
    console.log(`src/index.ts exports ${expected.size} names, ${valueNames(expected).length} of them values`)
    checkExports(app, expected)

    check('TypeScript: app and exports check compile (strict, skipLibCheck: false)', () => {
      for (const file of ['app.ts', 'tsconfig.json']) fs.copyFileSync(path.join(fixtures, file), path.join(app, file))
      const source = exportsCheckSource(expected)
      fs.writeFileSync(path.join(app, 'exports-check.ts'), source)
      fs.writeFileSync(path.join(app, 'exports-check.mts'), source)
      const tsc = path.join(app, 'node_modules', 'typescript', 'bin', 'tsc')
      runOk(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: app })
    })

    const apps = [
      ['TypeScript app (compiled to CommonJS)', 'build/app.js', 'package app ok: typescript'],
      ['exports check as CommonJS', 'build/exports-check.js', 'package exports ok'],
      ['exports check as an ES module', 'build/exports-check.mjs', 'package exports ok'],
      ['JavaScript CommonJS app', 'app.cjs', 'package app ok: commonjs'],
      ['JavaScript ES module app', 'app.mjs', 'package app ok: esm'],
    ]
    for (const [label, file, done] of apps) {
      check(`run: ${label}`, () => {
        const fixture = path.join(fixtures, file)
        if (fs.existsSync(fixture)) fs.copyFileSync(fixture, path.join(app, file))
        if (!fs.existsSync(path.join(app, file))) throw new Error(`${file} was not built`)
        const result = runOk(process.execPath, [file], { cwd: app })
        // An app whose promises never settle exits 0 without finishing.
        if (!result.stdout.includes(done)) throw new Error(`${file} did not finish:\n${result.stdout}${result.stderr}`)
      })
    }

    checkInstallScripts(tmp, tarball.file)

    check(`bin: npx ${BIN} --help`, () => {
      if (!BIN) throw new Error('package.json has no bin')
      const target = path.join(app, 'node_modules', pkg.name, pkg.bin[BIN])
      if (!fs.existsSync(target)) throw new Error(`${pkg.bin[BIN]} is not in the package (is src/cli/main.ts there?)`)
      if (!fs.readFileSync(target, 'utf8').startsWith('#!/usr/bin/env node')) throw new Error(`${pkg.bin[BIN]} has no #!/usr/bin/env node line`)
      const result = runOk('npx', ['--no', '--offline', '--', BIN, '--help'], { cwd: app })
      const usage = result.stdout + result.stderr
      for (const command of ['audit', 'explain']) {
        if (!usage.includes(command)) throw new Error(`--help does not mention '${command}':\n${usage}`)
      }
    })

    // Self-test: drop one value export from the installed package; each export
    // comparison above must now fail and name it.
    setup('self-test: the export checks notice a missing export', () => {
      const victim = valueNames(expected)[0]
      const dist = path.join(app, 'node_modules', pkg.name, 'dist')
      const js = path.join(dist, 'index.js')
      const dts = path.join(dist, 'index.d.ts')
      const jsBefore = fs.readFileSync(js, 'utf8')
      const dtsBefore = fs.readFileSync(dts, 'utf8')
      const name = new RegExp(`\\b${victim}\\b`)
      // tsc emits `exports.a = exports.b = void 0;` and one Object.defineProperty per name.
      const jsAfter = jsBefore
        .split('\n')
        .filter((line) => !(line.startsWith('Object.defineProperty(exports') && name.test(line)))
        .join('\n')
        .replace(new RegExp(`exports\\.${victim} = `), '')
      const dtsAfter = dtsBefore.replace(new RegExp(`([{,]\\s*)${victim}\\s*(,|(?=\\s*}))`), '$1')
      if (jsAfter === jsBefore || dtsAfter === dtsBefore) {
        failures.push('self-test')
        console.log(`FAIL  self-test: could not remove '${victim}' from the installed dist/index.*`)
        return
      }
      fs.writeFileSync(js, jsAfter)
      fs.writeFileSync(dts, dtsAfter)
      const before = failures.length
      const log = console.log
      const lines = []
      console.log = (line) => lines.push(line)
      try {
        checkExports(app, expected, '[broken copy] ')
      } finally {
        console.log = log
      }
      const caught = failures.splice(before)
      const named = lines.filter((l) => l.includes(`missing: ${victim}`)).length
      if (caught.length !== 3 || named !== 3) {
        failures.push('self-test')
        console.log(`FAIL  self-test: removing '${victim}' was noticed by ${caught.length} of 3 checks\n${indent(lines.join('\n'))}`)
      } else {
        console.log(`ok    self-test: removing '${victim}' fails the types, require() and import checks`)
      }
    })
  } catch (error) {
    failures.push('setup')
    console.log(`FAIL  setup\n${indent(error instanceof Error ? error.stack ?? error.message : String(error))}`)
  } finally {
    if (process.env.KEEP_SCRATCH === '1') console.log(`scratch app kept in ${app}`)
    else fs.rmSync(tmp, { recursive: true, force: true })
  }

  for (const [name, ms] of timings) console.log(`${(ms / 1000).toFixed(1).padStart(6)}s  ${name}`)
  console.log(`${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s  total`)
  if (failures.length) {
    console.log(`test:package: ${failures.length} failed`)
    process.exit(1)
  }
  console.log('test:package: ok')
}

main()
