// Fails when a file under src/ is longer than 300 lines, or a function longer
// than 60 lines has no reason written above it: a comment line containing
// "Long:" within the three lines before it (or in its doc comment).
// Import cycles and the folder order are checked by dependency-cruiser
// (.dependency-cruiser.js); this covers the two size rules of docs/contributing.md.
const fs = require('node:fs')
const path = require('node:path')
const ts = require('typescript')

const MAX_FILE_LINES = 300
const MAX_FUNCTION_LINES = 60
const root = path.join(__dirname, '..')

function sourceFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name)
    if (e.isDirectory()) return sourceFiles(full)
    return e.name.endsWith('.ts') ? [full] : []
  })
}

const problems = []
for (const file of sourceFiles(path.join(root, 'src'))) {
  const text = fs.readFileSync(file, 'utf8')
  const lines = text.split('\n')
  const name = path.relative(root, file)
  if (lines.length > MAX_FILE_LINES) problems.push(`${name}: ${lines.length} lines (at most ${MAX_FILE_LINES})`)
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true)
  const visit = (node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const first = source.getLineAndCharacterOfPosition(node.getStart()).line
      const last = source.getLineAndCharacterOfPosition(node.getEnd()).line
      const docStart = source.getLineAndCharacterOfPosition(node.getFullStart()).line
      const before = lines.slice(Math.max(0, Math.min(docStart, first - 3)), first + 1).join('\n')
      if (last - first + 1 > MAX_FUNCTION_LINES && !/Long:/.test(before)) {
        const label = node.name ? node.name.getText(source) : '(anonymous)'
        problems.push(`${name}:${first + 1}: ${label} is ${last - first + 1} lines (at most ${MAX_FUNCTION_LINES}, or say why in a "Long:" comment)`)
      }
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
}

if (problems.length) {
  console.error(problems.join('\n'))
  process.exit(1)
}
console.log('sizes: every file and function within bounds')
