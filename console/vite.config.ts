import { resolve } from 'node:path'
import { defineConfig, type Plugin } from 'vite'
import { describe, describeChunks, measureChunks, measureInitialJs } from './size-budget.ts'

/**
 * Prints the initial JavaScript size and every chunk's after each build, and fails the build
 * when the initial JavaScript is over budget.
 */
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
      console.log(`chunks:\n${describeChunks(await measureChunks(outDir))}`)
      if (!report.ok) throw new Error('console initial JS is over its 60 KB gzipped budget')
    },
  }
}

export default defineConfig({
  root: 'console',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  resolve: {
    // The journey canvas's graph library (@xyflow/react) is written for React: preact/compat
    // stands in (console/tsconfig.json maps the types the same way).
    alias: [
      { find: /^react$/, replacement: 'preact/compat' },
      { find: /^react-dom$/, replacement: 'preact/compat' },
      { find: /^react\/jsx-runtime$/, replacement: 'preact/jsx-runtime' },
    ],
  },
  build: {
    outDir: '../dist/site',
    emptyOutDir: true,
    target: 'es2022',
    rollupOptions: {
      output: {
        // A screen's chunk is named after its folder (views/journeys/screen.tsx → journeys-…).
        chunkFileNames: (chunk) => {
          const screen = /views\/([^/]+)\/screen\.tsx$/.exec(chunk.facadeModuleId ?? '')?.[1]
          return `assets/${screen ?? '[name]'}-[hash].js`
        },
      },
    },
  },
  plugins: [sizeBudget()],
})
