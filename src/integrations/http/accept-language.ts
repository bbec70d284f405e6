const TAG = /^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$|^\*$/
// A client sends a handful; more is noise or an attack, and sorting it must stay cheap.
const MAX_ENTRIES = 32

interface Weighted {
  readonly tag: string
  readonly q: number
}

function parse(header: string): Weighted[] {
  const out: Weighted[] = []
  for (const part of header.split(',', MAX_ENTRIES)) {
    const [rawTag = '', ...options] = part.trim().split(';')
    const tag = rawTag.trim()
    if (!TAG.test(tag)) continue
    let q = 1
    for (const option of options) {
      const [name, value] = option.trim().split('=')
      if (name?.trim().toLowerCase() === 'q') q = Number(value)
    }
    if (Number.isFinite(q) && q > 0 && q <= 1) out.push({ tag, q })
  }
  // Array.prototype.sort is stable: equal weights keep the client's order.
  return out.sort((a, b) => b.q - a.q)
}

const language = (tag: string): string => tag.split('-')[0]!.toLowerCase()

/**
 * @internal The locale an `Accept-Language` header asks for. Without
 * `supported`, the client's first choice (`'ru-RU,ru;q=0.9,en;q=0.8'` gives
 * `'ru-RU'`); with it, the best supported one: an exact match, else the same
 * language (`'fr-CA'` finds `'fr'`), `*` takes the first supported. Undefined
 * when nothing fits, so the caller falls back to its default.
 */
export function localeFromAcceptLanguage(
  header: string | string[] | undefined,
  supported?: readonly string[],
): string | undefined {
  const value = Array.isArray(header) ? header.join(',') : header
  if (!value) return undefined
  const wanted = parse(value)
  if (!supported) return wanted.find((w) => w.tag !== '*')?.tag
  for (const { tag } of wanted) {
    if (tag === '*') return supported[0]
    const exact = supported.find((s) => s.toLowerCase() === tag.toLowerCase())
    if (exact) return exact
    const sameLanguage = supported.find((s) => language(s) === language(tag))
    if (sameLanguage) return sameLanguage
  }
  return undefined
}
