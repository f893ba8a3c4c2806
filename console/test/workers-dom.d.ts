// The browser tests type-check with the DOM library (page.evaluate bodies run in Chromium) and
// also reach edge modules through scripts/seed.ts; this adds the one Workers extension of a DOM
// type those modules use.
interface SubtleCrypto {
  timingSafeEqual(a: ArrayBuffer | ArrayBufferView, b: ArrayBuffer | ArrayBufferView): boolean
}
