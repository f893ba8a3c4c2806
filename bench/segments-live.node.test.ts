import { describe, expect, it } from 'vitest'
import { alternatingPairs, failedRuns, VARIANT_LABELS } from './segments-live.ts'

describe('the CPU pairs', () => {
  it('alternate their order, and leave out a run that fails while measuring the rest', async () => {
    const order: string[] = []
    const { runs, failed } = await alternatingPairs('test', 3, async (pair, variant) => {
      order.push(`${pair} ${variant}`)
      if (pair === 2 && variant === 'none') throw new Error('workerd stopped answering')
      return `${pair} ${variant}`
    })
    expect(order).toEqual(['1 none', '1 live', '2 live', '2 none', '3 none', '3 live'])
    expect(runs).toEqual(['1 none', '1 live', '2 live', '3 none', '3 live'])
    expect(failed).toEqual([{ pair: 2, variant: 'none', error: 'workerd stopped answering' }])
    const { lines, check } = failedRuns(failed, VARIANT_LABELS)
    expect(lines).toEqual([
      '  pair 2, no segments: failed and left out (workerd stopped answering)',
    ])
    expect(check.ok).toBe(false)
    expect(failedRuns([], VARIANT_LABELS).check.ok).toBe(true)
  })
})
