import { describe, expect, it } from 'vitest'
import { verdictText } from './ingest-targets.ts'
import { judgeLiveSegments, judgePreview, SEGMENT_TARGETS, timing } from './segments-targets.ts'

const at = (median: number, p95 = median) => ({ samples: 5, median, p95 })

describe('timing', () => {
  it('takes the middle sample, or the mean of the middle two, and the nearest-rank p95', () => {
    expect(timing([30, 10, 20])).toEqual({ samples: 3, median: 20, p95: 30 })
    expect(timing([40, 10, 30, 20])).toEqual({ samples: 4, median: 25, p95: 40 })
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i)
    expect(timing(hundred)).toMatchObject({ median: 50.5, p95: 95 })
    expect(timing([]).median).toBeNaN()
  })
})

describe('the preview target', () => {
  const population = SEGMENT_TARGETS.previewContacts

  it('reads the median at the stated population, under the bound and not at it', () => {
    expect(judgePreview(new Map([[population, at(999)]])).met).toBe(true)
    expect(judgePreview(new Map([[population, at(1000)]])).met).toBe(false)
    const verdict = judgePreview(
      new Map([
        [100_000, at(50)],
        [population, at(620, 700)],
      ]),
    )
    expect(verdict).toMatchObject({ met: true, figure: 'median 620 ms, p95 700 ms (5 runs)' })
    expect(verdict.note).toBeUndefined()
  })

  it('says when the median meets it but the p95 does not', () => {
    expect(judgePreview(new Map([[population, at(900, 1400)]]))).toMatchObject({
      met: true,
      note: 'the p95 is not under it',
    })
  })

  it('is not measured by a run of smaller populations (--quick)', () => {
    const verdict = judgePreview(new Map([[100_000, at(90)]]))
    expect(verdict.met).toBeNull()
    expect(verdict.note).toBe('this run measured up to 100,000 contacts only')
    expect(verdictText(judgePreview(new Map()).met)).toBe('not measured')
  })
})

describe('the live-segments target', () => {
  it('takes the median of the pairs’ ratios and counts the pairs that agree', () => {
    const verdict = judgeLiveSegments('returning', [
      { none: 2.0, live: 2.2, failed: 0 },
      { none: 2.5, live: 2.4, failed: 0 },
      { none: 2.0, live: 2.6, failed: 0 },
    ])
    expect(verdict).toMatchObject({
      met: true,
      figure: '2.00 → 2.40 ms, median ratio 1.10 (pairs 0.96–1.30)',
      note: '2 of 3 pairs on the same side',
    })
  })

  it('meets the bound exactly and misses it just past', () => {
    expect(judgeLiveSegments('x', [{ none: 2, live: 2.4, failed: 0 }]).met).toBe(true)
    expect(judgeLiveSegments('x', [{ none: 2, live: 2.41, failed: 0 }]).met).toBe(false)
  })

  it('says a single pair is within one run’s noise', () => {
    expect(judgeLiveSegments('x', [{ none: 2, live: 2.1, failed: 0 }]).note).toContain(
      'one pair only',
    )
  })

  it('says how many requests failed, whose CPU is counted without their events', () => {
    const verdict = judgeLiveSegments('x', [
      { none: 2, live: 2.2, failed: 218 },
      { none: 2, live: 2.2, failed: 1 },
    ])
    expect(verdict.note).toBe(
      '2 of 2 pairs on the same side; 219 requests not answered 2xx: their CPU counts, their events do not',
    )
  })

  it('leaves out pairs without a CPU figure, and is not measured without any', () => {
    const verdict = judgeLiveSegments('x', [
      { none: null, live: 9, failed: 0 },
      { none: 2, live: 3, failed: 0 },
    ])
    expect(verdict).toMatchObject({ met: false, figure: '2.00 → 3.00 ms, median ratio 1.50' })
    expect(judgeLiveSegments('x', [{ none: 2, live: null, failed: 0 }]).met).toBeNull()
  })

  it('names whose CPU it judges: workerd’s unless told', () => {
    const pairs = [{ none: 1, live: 1.1, failed: 0 }]
    expect(judgeLiveSegments('returning', pairs).name).toBe(
      'returning: workerd CPU/event with 50 segments ÷ without',
    )
    expect(judgeLiveSegments('returning', pairs, 'the contact objects’').name).toBe(
      'returning: the contact objects’ CPU/event with 50 segments ÷ without',
    )
  })
})
