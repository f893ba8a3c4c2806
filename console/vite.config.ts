import { resolve } from 'node:path'
import { defineConfig, type Plugin } from 'vite'
import { describe, measureInitialJs } from './size-budget.ts'

/** Prints the initial JavaScript size after every build and fails the build over budget. */
function sizeBudget(): Plugin {
  let outDir = ''
  return {
    name: 'cairn-size-budget',
    apply: 'build',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir)
    },
    async closeBundle() {
      const report = await measureInitialJs(outDir)
      console.log(describe(report))
      if (!report.ok) throw new Error('console initial JS is over its 60 KB gzipped budget')
    },
  }
}

export default defineConfig({
  root: 'console',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: { outDir: '../dist/site', emptyOutDir: true, target: 'es2022' },
  plugins: [sizeBudget()],
})
