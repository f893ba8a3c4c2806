import { convert } from 'html-to-text'
import { Context, LayoutTag, Liquid, LiquidError, toValueSync, type Template } from 'liquidjs'

/**
 * Email templates in Liquid (liquidjs), rendered from memory: snippets are the only files a
 * template can name, never the file system.
 *
 * - Partials: `{% render 'footer' %}` renders snippet `footer` with its own scope (pass values
 *   as `{% render 'footer', name: contact.traits.name %}`); `{% include %}` shares the caller's.
 * - Layouts, the liquidjs way: a layout snippet marks where the template's HTML goes with
 *   `{% block %}{% endblock %}` (and may offer named blocks, `{% block title %}…{% endblock %}`,
 *   that a template fills). A template picks one with its `layout` field, which wraps its HTML
 *   part as if it began with `{% layout 'name' %}`, or with that tag itself; not both.
 * - In the HTML part every `{{ }}` is HTML-escaped, in snippets too, because traits and event
 *   properties come from anyone with a write key: `| raw` opts out, for values a marketer trusts.
 *   The subject and the text part are not HTML, so nothing is escaped there; a subject loses its
 *   line breaks, which would otherwise start new mail headers.
 * - Without a text part, the text is made from the rendered HTML (html-to-text: links kept as
 *   `text [url]`, images left out).
 */

export type TemplatePart = 'subject' | 'html' | 'text'

export interface EmailTemplate {
  subject: string
  html: string
  /** null: made from the HTML. */
  text: string | null
  /** A snippet wrapping the HTML part; null: none. */
  layout: string | null
}

/** What a template sees: `contact.key`, `contact.traits.*`, `event.*`, `account.*`, `data.*`. */
export interface RenderScope {
  contact: { key: string; traits: Record<string, unknown> }
  /** The event that triggered the message. */
  event: Record<string, unknown> | null
  /** The traits of the contact's (first) group. */
  account: Record<string, unknown> | null
  /** Given by the caller: the API request, the journey. */
  data: Record<string, unknown>
}

export interface RenderedEmail {
  subject: string
  html: string
  text: string
}

/**
 * Bounds on a template anyone with the marketer role writes and every send renders. A render is
 * bounded by steps, not time: in a deployed Worker the clock stands still while code runs, so
 * liquidjs' renderLimit (milliseconds) would never trip there.
 */
export const RENDER_LIMITS = {
  /** Characters parsed by one render: the part and every snippet it names. */
  parseChars: 1_000_000,
  /** Tags, outputs and text pieces rendered: loops and snippets rendering each other stop here. */
  steps: 100_000,
  /** liquidjs' count of what filters and ranges allocate. */
  memory: 10_000_000,
} as const

/**
 * A template that does not parse or render: which part, where (null when the problem has no
 * place in the source, such as an unknown layout), and what. A problem inside a snippet names it.
 */
export class TemplateError extends Error {
  constructor(
    readonly part: TemplatePart | 'snippet',
    readonly line: number | null,
    readonly column: number | null,
    readonly reason: string,
    readonly snippet?: string,
  ) {
    const inSnippet = snippet !== undefined && part !== 'snippet'
    const where = inSnippet ? `${part}, snippet "${snippet}"` : part
    const at = line === null ? '' : `${inSnippet ? ',' : ''} line ${line}, column ${column}`
    super(`${where}${at}: ${reason}`)
    this.name = 'TemplateError'
  }
}

/** Renders every part of a template for one contact. Throws TemplateError. */
export function renderEmail(
  template: EmailTemplate,
  snippets: Record<string, string>,
  scope: RenderScope,
): RenderedEmail {
  const engines = enginesFor(snippets)
  const html = renderPart(engines.html, 'html', htmlSource(template, snippets), scope)
  const subject = renderPart(engines.plain, 'subject', { source: template.subject }, scope)
  const text =
    template.text === null
      ? textOf(html)
      : renderPart(engines.plain, 'text', { source: template.text }, scope)
  return { subject: oneLine(subject), html, text }
}

/**
 * Parses every part as sending would, and checks that each snippet it names by a quoted name
 * exists. Returns the snippets named that way (the layout among them). Throws TemplateError.
 */
export function checkTemplate(
  template: EmailTemplate,
  snippets: Record<string, string>,
): Set<string> {
  const engines = enginesFor(snippets)
  const sources: [TemplatePart, Liquid, Source][] = [
    ['subject', engines.plain, { source: template.subject }],
    ['html', engines.html, htmlSource(template, snippets)],
  ]
  if (template.text !== null) sources.push(['text', engines.plain, { source: template.text }])
  const named = new Set<string>()
  for (const [part, engine, source] of sources) {
    const templates = parsePart(engine, part, source)
    // With a layout named, the author's HTML is what the layout tag put before it holds.
    const ownLayout =
      part === 'html' && source.prefix
        ? (templates[0] as LayoutTag).templates.find(isLayout)
        : undefined
    if (ownLayout) {
      const reason = `uses {% layout %} and names layout "${template.layout}" too; keep one`
      throw positioned(part, ownLayout, reason, source)
    }
    for (const reference of snippetReferences(templates)) {
      if (!Object.hasOwn(snippets, reference.name)) {
        throw positioned(part, reference.template, `unknown snippet "${reference.name}"`, source)
      }
      named.add(reference.name)
    }
  }
  return named
}

/**
 * Parses a snippet as templates will load it, and checks that the snippets it names exist and
 * that none leads back to it (a snippet rendering itself would fail every send that used it).
 * Returns the snippets it names. Throws TemplateError with part `snippet`.
 */
export function checkSnippet(
  name: string,
  body: string,
  snippets: Record<string, string>,
): Set<string> {
  const all = { ...snippets, [name]: body }
  const engine = enginesFor(all).html
  const source = { source: body, snippet: name }
  const own = snippetReferences(parsePart(engine, 'snippet', source, name))
  const referencesOf = (snippet: string) => {
    if (!Object.hasOwn(all, snippet)) return []
    try {
      return snippetReferences(engine.parse(all[snippet]!, snippet))
    } catch {
      // Each was checked when it was saved; one that no longer parses names nothing here.
      return []
    }
  }
  for (const reference of own) {
    if (!Object.hasOwn(all, reference.name)) {
      throw positioned('snippet', reference.template, `unknown snippet "${reference.name}"`, source)
    }
    const path = pathTo(reference.name, name, referencesOf)
    if (path) {
      const through = path.slice(0, -1).map((step) => `"${step}"`)
      const reason =
        through.length > 0 ? `renders itself through ${through.join(' → ')}` : 'renders itself'
      throw positioned('snippet', reference.template, reason, source)
    }
  }
  return new Set(own.map((reference) => reference.name))
}

/** The snippets from `from` to `to` (both included) along static references, or null. */
function pathTo(
  from: string,
  to: string,
  referencesOf: (snippet: string) => { name: string }[],
): string[] | null {
  const seen = new Set<string>()
  const walk = (at: string): string[] | null => {
    if (at === to) return [at]
    if (seen.has(at)) return null
    seen.add(at)
    for (const { name } of referencesOf(at)) {
      const rest = walk(name)
      if (rest) return [at, ...rest]
    }
    return null
  }
  return walk(from)
}

interface Source {
  source: string
  /** Characters put before the author's first line (the layout tag). */
  prefix?: number
  snippet?: string
}

interface Engines {
  html: Liquid
  plain: Liquid
}

function enginesFor(snippets: Record<string, string>): Engines {
  // A map without a prototype: `{% render 'constructor' %}` names no snippet.
  const templates = Object.assign(Object.create(null) as Record<string, string>, snippets)
  const options = {
    templates,
    cache: true,
    strictFilters: true,
    ownPropertyOnly: true,
    parseLimit: RENDER_LIMITS.parseChars,
    memoryLimit: RENDER_LIMITS.memory,
  }
  return {
    html: new Liquid({ ...options, outputEscape: 'escape' }),
    plain: new Liquid(options),
  }
}

const LAYOUT_NAME = /^[a-z0-9_-]+$/

function htmlSource(template: EmailTemplate, snippets: Record<string, string>): Source {
  if (template.layout === null) return { source: template.html }
  if (!LAYOUT_NAME.test(template.layout) || !Object.hasOwn(snippets, template.layout)) {
    throw new TemplateError('html', null, null, `unknown layout snippet "${template.layout}"`)
  }
  // On the author's first line, so line numbers stay theirs; columns of line 1 are corrected.
  const tag = `{% layout '${template.layout}' %}`
  return { source: tag + template.html, prefix: tag.length }
}

function isLayout(template: Template): boolean {
  return template instanceof LayoutTag
}

function parsePart(engine: Liquid, part: TemplatePart | 'snippet', source: Source, file?: string) {
  try {
    return engine.parse(source.source, file)
  } catch (error) {
    throw asTemplateError(error, part, source)
  }
}

function renderPart(
  engine: Liquid,
  part: TemplatePart,
  source: Source,
  scope: RenderScope,
): string {
  const templates = parsePart(engine, part, source)
  try {
    return String(engine.renderSync(templates, stepLimitedContext(engine, scope)))
  } catch (error) {
    throw asTemplateError(error, part, source)
  }
}

/**
 * A render context whose limiter counts steps: liquidjs asks its time limiter on every template
 * it renders, so a counter given in its place bounds the work (see RENDER_LIMITS).
 */
function stepLimitedContext(engine: Liquid, scope: RenderScope): Context {
  const renderLimit = new StepLimiter(
    RENDER_LIMITS.steps,
  ) as unknown as ContextLimits['renderLimit']
  return new Context({ ...scope }, engine.options, { sync: true }, { liquid: engine, renderLimit })
}

type ContextLimits = NonNullable<ConstructorParameters<typeof Context>[3]>

class StepLimiter {
  private steps = 0
  constructor(private readonly limit: number) {}

  check() {
    if (++this.steps > this.limit) {
      throw new Error(
        `rendering took more than ${this.limit} steps (a loop too long, or snippets rendering each other)`,
      )
    }
  }
}

/** Snippets named by a quoted name in render, include and layout tags, at any depth. */
function snippetReferences(templates: Template[]): { name: string; template: Template }[] {
  const found: { name: string; template: Template }[] = []
  const visit = (list: Template[]) => {
    for (const template of list) {
      const partial = template.partialScope?.()
      if (partial) found.push({ name: partial.name, template })
      if (template.children) visit(toValueSync(template.children(false, true)))
    }
  }
  visit(templates)
  return found
}

function positioned(
  part: TemplatePart | 'snippet',
  template: Template,
  reason: string,
  source: Source,
): TemplateError {
  const [line, column] = template.token.getPosition() as [number, number]
  return new TemplateError(part, line, corrected(line, column, source), reason, source.snippet)
}

function corrected(line: number, column: number, source: Source): number {
  return line === 1 && source.prefix ? Math.max(1, column - source.prefix) : column
}

function asTemplateError(
  error: unknown,
  part: TemplatePart | 'snippet',
  source: Source,
): TemplateError {
  if (error instanceof TemplateError) return error
  if (!LiquidError.is(error)) {
    return new TemplateError(
      part,
      null,
      null,
      describe(error instanceof Error ? error.message : String(error)),
    )
  }
  const [line, column] = error.token.getPosition() as [number, number]
  const snippet = error.token.file ?? source.snippet
  const inMain = error.token.file === undefined
  return new TemplateError(
    part,
    line,
    inMain ? corrected(line, column, source) : column,
    describe(error.originalError?.message ?? error.message),
    snippet,
  )
}

/** liquidjs' message without its position suffix, in the words of this API. */
function describe(message: string): string {
  const bare = message.replace(/(?:, file:[^,]*)?, line:\d+, col:\d+$/, '')
  const rewrites: [RegExp, (...groups: string[]) => string][] = [
    [/^undefined filter: (.+)$/, (name) => `unknown filter "${name}"`],
    [/^tag "(.+)" not found$/, (name) => `unknown tag "${name}"`],
    [/^ENOENT: Failed to lookup "(.*)" in .*$/s, (name) => `unknown snippet "${name}"`],
    [/^parse length limit exceeded$/, () => `longer than ${RENDER_LIMITS.parseChars} characters`],
    [/^memory alloc limit exceeded$/, () => 'rendering needed too much memory'],
    // Snippets that render each other by names only known when rendering (checkSnippet refuses
    // the quoted ones): the stack runs out before the steps do.
    [/^Maximum call stack size exceeded$/, () => 'snippets rendering each other nest too deeply'],
  ]
  for (const [pattern, rewrite] of rewrites) {
    const match = pattern.exec(bare)
    if (match) return rewrite(...match.slice(1))
  }
  return bare
}

/** Line breaks in a subject would start new mail headers: each run of them becomes a space. */
function oneLine(subject: string): string {
  return subject.replace(/\s*[\r\n]+\s*/g, ' ').trim()
}

function textOf(html: string): string {
  return convert(html, {
    wordwrap: 100,
    selectors: [
      { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
      { selector: 'img', format: 'skip' },
    ],
  })
}
