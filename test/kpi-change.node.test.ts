import { describe, expect, it } from 'vitest'
import { changeOf } from '../console/src/models/kpi-change'

describe("the KPIs screen's change since the previous period", () => {
  it('moves shares by percentage points and amounts by percent', () => {
    expect(
      changeOf({ id: 'engagement_rate', unit: 'fraction', value: 0.3, previous: 0.25 }),
    ).toEqual({ text: '+5.0 pts', direction: 'up', tone: 'ok' })
    expect(changeOf({ id: 'ltv', unit: 'money', value: 90, previous: 120 })).toEqual({
      text: '−25%',
      direction: 'down',
      tone: 'bad',
    })
  })

  it('calls a fall good news where lower is better', () => {
    expect(changeOf({ id: 'cac', unit: 'money', value: 80, previous: 100 })?.tone).toBe('ok')
    expect(changeOf({ id: 'churn_rate', unit: 'fraction', value: 0.05, previous: 0.04 })).toEqual({
      text: '+1.0 pts',
      direction: 'up',
      tone: 'bad',
    })
  })

  it('has nothing to say without both figures or from zero, and is flat when tiny', () => {
    expect(changeOf({ id: 'cac', unit: 'money', value: 80, previous: null })).toBeNull()
    expect(changeOf({ id: 'ltv_cac', unit: 'multiple', value: 3, previous: 0 })).toBeNull()
    expect(changeOf({ id: 'ltv_cac', unit: 'multiple', value: 3.001, previous: 3 })).toEqual({
      text: '±0%',
      direction: 'flat',
      tone: 'neutral',
    })
  })
})
