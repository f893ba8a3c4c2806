import { z } from '@hono/zod-openapi'
import { PURPOSES, type Purpose } from '../../domain/consent'
import { ErrorSchema } from '../errors'

/**
 * A consent decision's purposes, each granted or denied; one left out stays as it was. An
 * unknown name is an error: a misspelt "marketting" dropped silently would record no decision.
 */
export const PurposesSchema = z
  .strictObject(
    Object.fromEntries(PURPOSES.map((p) => [p, z.boolean().optional()])) as Record<
      Purpose,
      z.ZodOptional<z.ZodBoolean>
    >,
  )
  .refine((p) => Object.keys(p).length > 0, 'name at least one purpose')

export const PageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(50).openapi({ example: 50 }),
  cursor: z.string().max(200).optional(),
})

export function listOf<T extends z.ZodType>(item: T, name: string) {
  return z.object({ items: z.array(item), cursor: z.string().nullable() }).openapi(name)
}

export function json<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } }
}

const error = (description: string) => json(ErrorSchema, description)

export const authErrors = {
  400: error('Invalid input'),
  401: error('Missing or unknown key'),
  403: error("The key's role may not use this route"),
} as const

export const notFound = { 404: error('Not found') } as const
