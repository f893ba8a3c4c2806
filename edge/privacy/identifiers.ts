import { sha256Hex } from '../access/secrets'
import { ANON_PREFIX, isAnonymousKey } from '../domain/identity'

export type IdentifierKind = 'userId' | 'anonymousId' | 'email'

export interface Identifier {
  kind: IdentifierKind
  value: string
}

/** Emails compare case-insensitively; ids exactly. */
export function normalizeIdentifier(identifier: Identifier): Identifier {
  return identifier.kind === 'email'
    ? { kind: 'email', value: identifier.value.trim().toLowerCase() }
    : identifier
}

/** The suppression list holds only this hash of an identifier. */
export function identifierHash(identifier: Identifier): Promise<string> {
  const { kind, value } = normalizeIdentifier(identifier)
  return sha256Hex(`${kind}:${value}`)
}

/** The identifier a canonical contact key stands for. */
export function identifierOfKey(key: string): Identifier {
  return isAnonymousKey(key)
    ? { kind: 'anonymousId', value: key.slice(ANON_PREFIX.length) }
    : { kind: 'userId', value: key }
}
