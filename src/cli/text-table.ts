/** One cell: a line, or several lines stacked in the row. */
export type Cell = string | readonly string[]

/**
 * A plain-text table with a header, columns two spaces apart, and cells
 * that may span several lines (the other cells of the row stay on its first
 * line). The last column is not padded, so lines end without blanks.
 */
export function renderTable(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const lines = (cell: Cell | undefined): readonly string[] => (cell === undefined ? [''] : typeof cell === 'string' ? [cell] : cell.length ? cell : [''])
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.flatMap((row) => lines(row[i]).map((l) => l.length))))
  const format = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  const out = [format(headers)]
  for (const row of rows) {
    const height = Math.max(...headers.map((_, i) => lines(row[i]).length))
    for (let line = 0; line < height; line++) out.push(format(headers.map((_, i) => lines(row[i])[line] ?? '')))
  }
  return out.join('\n')
}
