// Entry point of t.js: bundled by tracker/build.ts into one IIFE whose only global is `cairn`.
import { api } from './api'
import { onClick } from './autotrack'
import { onTcfDecision, type TCData } from './consent'
import { autoPage } from './message'
import { flush } from './transport'

type Call = [keyof typeof api, unknown[]]
type TcfApi = (command: string, version: 2, listener: (d: TCData, ok: boolean) => void) => void
const w = window as Window & { cairn?: { q?: Call[] } | typeof api; __tcfapi?: TcfApi }

// Calls made through the async stub before this file loaded, replayed after the landing view.
const early = (w.cairn as { q?: Call[] } | undefined)?.q || []
w.cairn = api

setInterval(autoPage, 200)
autoPage()
for (const [method, args] of early) (api[method] as Function)?.(...args)
w.__tcfapi?.('addEventListener', 2, onTcfDecision)
addEventListener('click', onClick)
// Hidden is the last moment a page is sure to see (mobile browsers may never fire unload).
addEventListener('visibilitychange', () => document.hidden && flush(1))
addEventListener('online', flush)
