/**
 * Ids people choose by name (templates, subscription groups, snippets): lower-case letters,
 * digits, `-` and `_`, so they read well in URLs, Liquid tags and journey definitions.
 */
export const SLUG = /^[a-z0-9_-]{1,64}$/

/** `Welcome, Émile!` → `welcome-emile`; '' when nothing of the text is left. */
export function slugOf(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64)
    .replace(/-+$/, '')
}
