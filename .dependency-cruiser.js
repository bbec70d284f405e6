// The layering of src/, checked by `npm run check:layers` (in CI): no import
// cycles at all, and a folder imports only folders listed BELOW it here.
// Folders on one line are peers: they may not import each other.
// docs/contributing.md explains what each folder owns.
const LAYERS = [
  ['cli'],
  ['index.ts'],
  ['integrations'],
  ['setup'],
  ['workers'],
  ['entity'],
  ['operations', 'actions', 'jobs'],
  ['typeorm'],
  ['transaction'],
  ['dispatch'],
  ['scope'],
  ['metadata'],
  ['audit', 'i18n', 'validation'],
  ['basics'],
]

const path = (name) => (name.endsWith('.ts') ? `^src/${name.replace('.', '[.]')}$` : `^src/${name}/`)

const upward = LAYERS.flatMap((layer, i) => {
  const above = LAYERS.slice(0, i).flat()
  const peers = (name) => layer.filter((other) => other !== name)
  return layer.flatMap((name) => [
    ...(above.length
      ? [{ name: `layer:${name}`, comment: `${name} may import only folders listed below it in .dependency-cruiser.js`, severity: 'error', from: { path: path(name) }, to: { path: above.map(path) } }]
      : []),
    ...(peers(name).length
      ? [{ name: `peer:${name}`, comment: `${name} may not import its peers ${peers(name).join(', ')}`, severity: 'error', from: { path: path(name) }, to: { path: peers(name).map(path) } }]
      : []),
  ])
})

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: 'no-cycles', comment: 'an import cycle, type-only imports included', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'src-stays-in-src',
      comment: 'the library imports nothing of the repository outside src/',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(?!src/|node_modules/)', dependencyTypesNot: ['core'] },
    },
    ...upward,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.build.json' },
    exclude: { path: '^(dist|node_modules)/' },
  },
}
