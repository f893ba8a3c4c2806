import { drizzle } from 'drizzle-orm/d1'
import { settings } from '../../db/schema'
import { writeSetting, readSetting } from '../../db/settings'
import type { Env } from '../../env'
import { openSecret, sealSecret, type SecretBoxEnv } from '../../messaging/secret-box'

/**
 * The account's one secret for signing journey webhooks (Standard Webhooks: `whsec_` and the
 * base64 of 32 random bytes, within the spec's 24 to 64). Made on first use, by the first send
 * or the first `GET /api/journeys/webhook-secret`, and held sealed (secret-box.ts) in the D1
 * setting below.
 */

export type SigningSecretEnv = Pick<Env, 'DB'> & SecretBoxEnv

const KEY = 'journeys.webhook_secret'

/** The secret cannot be opened: the secrets key changed since it was made. */
export class UnreadableSecret extends Error {
  constructor() {
    super(
      'The journey webhook signing secret cannot be opened: the secrets key changed since it ' +
        'was made; rotate it (POST /api/journeys/webhook-secret/rotate) and give receivers the new one',
    )
    this.name = 'UnreadableSecret'
  }
}

/** The secret, made now when there is none. Throws UnreadableSecret. */
export async function webhookSecret(env: SigningSecretEnv): Promise<string> {
  let sealed = await readSetting<string>(env.DB, KEY)
  if (sealed === undefined) {
    // Two first uses at once keep the one stored first: a webhook signed with the other would
    // never verify.
    await drizzle(env.DB)
      .insert(settings)
      .values({ key: KEY, value: await sealSecret(env, newSecret()), updatedAt: now() })
      .onConflictDoNothing()
    sealed = (await readSetting<string>(env.DB, KEY))!
  }
  const secret = await openSecret(env, sealed)
  if (secret === null) throw new UnreadableSecret()
  return secret
}

/** A new secret in place of the old, which no longer signs anything. */
export async function rotateWebhookSecret(env: SigningSecretEnv): Promise<string> {
  const secret = newSecret()
  await writeSetting(env.DB, KEY, await sealSecret(env, secret))
  return secret
}

function newSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32))
  return `whsec_${btoa(String.fromCharCode(...bytes))}`
}

function now(): string {
  return new Date().toISOString()
}
