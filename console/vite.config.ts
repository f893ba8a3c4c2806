import { defineConfig } from 'vite'

export default defineConfig({
  root: 'console',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: { outDir: '../dist/site', emptyOutDir: true, target: 'es2022' },
})
