#!/usr/bin/env bash
# Runs the one test suite on every database (DB) and both TypeORM majors
# (TYPEORM=0: typeorm 0.3 + sqlite3; TYPEORM=1: typeorm 1.x + better-sqlite3),
# then prints one total line. Pass jest arguments through, e.g. a test path.
#
#   DBS="sqlite postgres"   the databases (default: all three)
#   TYPEORMS="1"            the TypeORM majors (default: 0 1)
#   NODE_MAJOR=22|24        on that Node instead of the machine's: see run_on_node below
#   NEWER_MAJORS=0          with NODE_MAJOR: skip the pass on the dependency majors that need Node 22
#   NEST_SMOKE=0|only       with NODE_MAJOR: skip the NestJS 12 smoke test, or run only it (no jest)
#   NATIVE_BUILD_CACHE=dir  with NODE_MAJOR: where native builds are kept (default .tmp/native-builds;
#                           a folder outside the clone lets a fresh clone's CI skip the compiles)
#
# DB_URL, if set, applies to every database of the run: with DB_URL, run one database at a time.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p .tmp

# The dependency majors that need Node 22 or later, tested where that Node runs
# (the machine's Node 20 cannot install them): one pass on TypeORM 1.x and
# SQLite, with better-sqlite3 13 in place of 12 (TypeORM 1.1 still declares
# ^12, hence the install's peer warning) and i18next 27 in place of 25.
NEWER="better-sqlite3@13 i18next@27"

# Copies the work tree's files (tracked, and new ones not ignored) into $1,
# leaving its node_modules and .tmp alone.
sync_tree() {
  find "$1" -mindepth 1 -maxdepth 1 ! -name node_modules ! -name .tmp -exec rm -rf {} +
  git ls-files -z -co --exclude-standard | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
    tar --null -T - -cf - | tar -xf - -C "$1"
}

# The native modules of $PWD/node_modules built for the Node on PATH, from the
# cache under $2 when a build for this package version and Node ABI is there.
# sqlite3 and better-sqlite3 12 compile from source here (their prebuilt
# binaries are downloaded from GitHub, out of reach), about two minutes each;
# node-gyp takes the headers from npm_config_nodedir (the Node package ships them).
build_natives() {
  local cache=$2 abi platform pkg version key missing=()
  abi=$(node -p process.versions.modules)
  platform=$(node -p 'process.platform + "-" + process.arch')
  for pkg in $1; do
    version=$(node -p "require('./node_modules/$pkg/package.json').version")
    key="$cache/$pkg-$version-abi$abi-$platform"
    if [ -d "$key" ]; then
      mkdir -p "node_modules/$pkg/build/Release" && cp "$key"/*.node "node_modules/$pkg/build/Release/"
      echo "$pkg $version for Node ABI $abi: from the build cache"
    else
      missing+=("$pkg")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "building ${missing[*]} for Node $(node -v) (ABI $abi)"
  npm rebuild --no-audit --no-fund "${missing[@]}" || return 1
  for pkg in "${missing[@]}"; do
    version=$(node -p "require('./node_modules/$pkg/package.json').version")
    key="$cache/$pkg-$version-abi$abi-$platform"
    mkdir -p "$key" && cp "node_modules/$pkg/build/Release/"*.node "$key/"
  done
}

# NODE_MAJOR=22: the same matrix on Node 22 (latest 22.x), the machine's Node
# and node_modules untouched. The Node binary comes from the registry as the
# package node-<platform>-<arch>@22 (what the `node` package installs) into
# .tmp/node-22/runtime; the work tree is copied to .tmp/node-22/repo, where
# `npm ci` (with that Node running npm) installs the locked dependencies and
# the native modules are built for that Node (cached in .tmp/native-builds).
# Then, there: the NestJS 12 smoke test (scripts/nest-smoke/run.mjs: NestJS 12
# is ES modules only, which jest cannot load, and needs Node 22), the matrix,
# and a pass on the NEWER majors.
run_on_node() {
  local major=$1 root leg runtime pkgdir status=0 t0
  shift
  root=$PWD
  leg="$root/.tmp/node-$major"
  runtime="$leg/runtime"
  pkgdir="$runtime/node_modules/node-$(node -p 'process.platform + "-" + process.arch')"
  t0=$SECONDS
  if [ ! -x "$pkgdir/bin/node" ]; then
    echo "--- installing Node $major (node-$(node -p 'process.platform + "-" + process.arch')@$major) into $runtime"
    mkdir -p "$runtime"
    npm install --prefix "$runtime" --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
      "node-$(node -p 'process.platform + "-" + process.arch')@$major" || return 1
  fi
  if [ ! -f "$pkgdir/include/node/node_version.h" ]; then
    echo "the Node $major package has no include/node headers: native modules cannot be built for it" >&2
    return 1
  fi
  export PATH="$pkgdir/bin:$PATH" npm_config_nodedir="$pkgdir"
  echo "--- Node $(node -v) in $leg/repo"
  mkdir -p "$leg/repo"
  sync_tree "$leg/repo"
  cd "$leg/repo" || return 1
  # --ignore-scripts: the natives come from build_natives, built or from the cache.
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error || return 1
  build_natives "sqlite3 better-sqlite3" "${NATIVE_BUILD_CACHE:-$root/.tmp/native-builds}" || return 1
  node -e '
    const v = (p) => require(p + "/package.json").version
    new (require("better-sqlite3"))(":memory:").close()
    new (require("sqlite3").Database)(":memory:").close()
    console.log(`Node ${process.version} (ABI ${process.versions.modules}): sqlite3 ${v("sqlite3")}, better-sqlite3 ${v("better-sqlite3")} load`)
  ' || return 1
  echo "--- Node $major set up in $((SECONDS - t0)) s"
  if [ "${NEST_SMOKE:-1}" != 0 ]; then
    echo "--- Node $major: the NestJS 12 smoke test (scripts/nest-smoke)"
    node scripts/nest-smoke/run.mjs || status=1
    if [ "${NEST_SMOKE:-1}" = only ]; then
      echo "--- Node $major done in $((SECONDS - t0)) s"
      return $status
    fi
  fi
  bash scripts/test-matrix.sh "$@" || status=1
  if [ "${NEWER_MAJORS:-1}" != 0 ] && [[ " ${TYPEORMS:-0 1} " == *" 1 "* ]] && [[ " ${DBS:-sqlite} " == *" sqlite "* ]]; then
    echo "--- Node $major with the newer majors: $NEWER (install log: $leg/newer-install.log)"
    npm install --no-save --no-audit --no-fund $NEWER >"$leg/newer-install.log" 2>&1 || { cat "$leg/newer-install.log"; return 1; }
    node -e 'for (const p of ["better-sqlite3", "i18next"]) console.log(`${p} ${require(p + "/package.json").version}`)'
    env -u DB_URL DBS=sqlite TYPEORMS=1 RUN_LABEL=newer bash scripts/test-matrix.sh "$@" || status=1
  fi
  echo "--- Node $major done in $((SECONDS - t0)) s"
  return $status
}

if [ -n "${NODE_MAJOR:-}" ]; then
  major=$NODE_MAJOR
  unset NODE_MAJOR
  run_on_node "$major" "$@"
  exit $?
fi

dbs=${DBS:-"sqlite postgres mariadb"}
majors=${TYPEORMS:-"0 1"}
label=${RUN_LABEL:+-$RUN_LABEL}
status=0
results=()
for major in $majors; do
  # The TypeORM 1.x half runs in a time zone away from UTC, so that date handling
  # that silently assumes UTC (SQLite stores dates as zone-less text) fails somewhere.
  if [ "$major" = 1 ]; then tz=${TZ_ALT:-America/New_York}; else tz=${TZ:-UTC}; fi
  for db in $dbs; do
    out=".tmp/jest-$db-$major$label.json"
    rm -f "$out"
    results+=("$out")
    echo "=== Node $(node -v) DB=$db TYPEORM=$major TZ=$tz${RUN_LABEL:+ ($RUN_LABEL)}"
    TZ=$tz TYPEORM=$major DB=$db npx jest --json --outputFile="$out" "$@" || status=1
  done
done
# The total of this run's results only (earlier runs' files may still be in .tmp).
node -e '
  const fs = require("fs");
  let passed = 0, failed = 0, total = 0;
  for (const f of process.argv.slice(1)) {
    if (!fs.existsSync(f)) { console.log(`${f}: jest wrote no results`); failed++; continue }
    const r = JSON.parse(fs.readFileSync(f, "utf8"));
    passed += r.numPassedTests; failed += r.numFailedTests; total += r.numTotalTests;
    console.log(`${f.replace(/^\.tmp\/jest-|\.json$/g, "").padEnd(18)} ${r.numPassedTests} passed, ${r.numFailedTests} failed`);
  }
  if (total === 0) { console.log("no tests ran"); process.exit(1) }
  console.log(`on Node ${process.version}:`);
  console.log(`tests: ${passed} passed, ${failed} failed`);
  if (failed) process.exit(1)
' "${results[@]}" || status=1
exit $status
