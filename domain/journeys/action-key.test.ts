import { describe, expect, it } from 'vitest'
import { actionKey, actionOrigin } from './action-key'

describe('journey action keys', () => {
  it('name the version and node that sent a message, for the email node metrics', () => {
    const key = actionKey('welcome-series', 3, 'tips', 'run_1:4')
    expect(key).toBe('journey:welcome-series:3:tips:run_1:4')
    expect(actionOrigin(key)).toEqual({ version: 3, node: 'tips' })
  })

  it('name nothing for a message sent through the API', () => {
    expect(actionOrigin('order-1234')).toBeNull()
    expect(actionOrigin('journey:x:not-a-number:n:r:1')).toBeNull()
  })
})
