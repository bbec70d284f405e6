#!/usr/bin/env bash
# Runs the one test suite on every database (DB) and both TypeORM majors
# (TYPEORM=0: typeorm 0.3 + sqlite3; TYPEORM=1: typeorm 1.x + better-sqlite3),
# then prints one total line. Pass jest arguments through, e.g. a test path.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p .tmp
dbs=${DBS:-"sqlite postgres mariadb"}
majors=${TYPEORMS:-"0 1"}
status=0
for major in $majors; do
  # The TypeORM 1.x half runs in a time zone away from UTC, so that date handling
  # that silently assumes UTC (SQLite stores dates as zone-less text) fails somewhere.
  if [ "$major" = 1 ]; then tz=${TZ_ALT:-America/New_York}; else tz=${TZ:-UTC}; fi
  for db in $dbs; do
    echo "=== DB=$db TYPEORM=$major TZ=$tz"
    TZ=$tz TYPEORM=$major DB=$db npx jest --json --outputFile=".tmp/jest-$db-$major.json" "$@" || status=1
  done
done
node -e '
  const fs = require("fs");
  let passed = 0, failed = 0, total = 0;
  for (const f of fs.readdirSync(".tmp").filter((f) => /^jest-.*\.json$/.test(f))) {
    const r = JSON.parse(fs.readFileSync(".tmp/" + f, "utf8"));
    passed += r.numPassedTests; failed += r.numFailedTests; total += r.numTotalTests;
    console.log(`${f.replace(/^jest-|\.json$/g, "").padEnd(12)} ${r.numPassedTests} passed, ${r.numFailedTests} failed`);
  }
  if (total === 0) { console.log("no tests ran"); process.exit(1) }
  console.log(`tests: ${passed} passed, ${failed} failed`);
' || status=1
exit $status
