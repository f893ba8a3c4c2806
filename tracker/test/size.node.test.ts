import { describe, expect, it } from 'vitest'
import { bundleTracker, TRACKER_BUDGET_GZIP } from '../build.ts'

describe('t.js size budget', () => {
  it(`stays within ${TRACKER_BUDGET_GZIP} bytes gzipped (zlib level 9)`, async () => {
    const { code, sizes } = await bundleTracker()
    console.log(
      `t.js: ${sizes.minified} B minified, ${sizes.gzip} B gzip, ${sizes.brotli} B brotli`,
    )
    expect(sizes.gzip).toBeLessThanOrEqual(TRACKER_BUDGET_GZIP)
    expect(sizes.brotli).toBeLessThan(sizes.gzip)
    // Strict-CSP safe: nothing that compiles strings to code.
    expect(code).not.toMatch(/\beval\(|new Function|setTimeout\(["'`]/)
  })
})
