import { z } from '@hono/zod-openapi'
import { ErrorSchema } from '../errors'

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

export const bearer = [{ secretKey: [] }]
