import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks'
import { count, dayLabel, short } from './format'

export interface Series {
  key: string
  label: string
  values: number[]
}

const HEIGHT = 200
const PAD = { top: 12, right: 12, bottom: 22, left: 44 }

/** "Nice" upper bound and tick step for an axis reaching `max`; counts step by whole numbers. */
function scale(max: number, ticks = 4) {
  if (max <= 0) return { top: 1, step: 1 }
  const raw = Math.max(1, max / ticks)
  const power = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw
  return { top: Math.ceil(max / step) * step, step }
}

/**
 * A small time-series line chart in SVG: one line per series over day labels, a hover and
 * keyboard cursor (arrow keys) that reads out each series' value.
 */
export function LineChart({
  labels,
  series,
  title,
}: {
  labels: string[]
  series: Series[]
  title: string
}) {
  const box = useRef<HTMLDivElement>(null)
  const [width, setWidth] = useState(640)
  const [cursor, setCursor] = useState<number | undefined>(undefined)
  const [hidden, setHidden] = useState<Set<string>>(new Set())

  useLayoutEffect(() => {
    const element = box.current
    if (!element) return
    const observer = new ResizeObserver(([entry]) => {
      if (entry) setWidth(Math.max(240, Math.floor(entry.contentRect.width)))
    })
    observer.observe(element)
    return () => observer.disconnect()
  }, [])
  useEffect(() => setCursor(undefined), [labels.length])

  const shown = series.filter((s) => !hidden.has(s.key))
  const max = Math.max(0, ...shown.flatMap((s) => s.values))
  const { top, step } = scale(max)
  const n = labels.length
  const plotW = width - PAD.left - PAD.right
  const plotH = HEIGHT - PAD.top - PAD.bottom
  const x = (i: number) => PAD.left + (n <= 1 ? plotW / 2 : (i / (n - 1)) * plotW)
  const y = (v: number) => PAD.top + plotH - (v / top) * plotH
  const ticks: number[] = []
  for (let v = 0; v <= top + step / 2; v += step) ticks.push(v)
  const labelEvery = Math.max(1, Math.ceil(n / Math.floor(plotW / 64)))

  function pointerAt(clientX: number) {
    const rect = box.current?.getBoundingClientRect()
    if (!rect || n === 0) return
    const ratio = (clientX - rect.left - PAD.left) / plotW
    setCursor(Math.min(n - 1, Math.max(0, Math.round(ratio * (n - 1)))))
  }

  return (
    <figure class="chart">
      <div class="legend" role="group" aria-label={`${title}: series shown`}>
        {series.map((s, i) => (
          <label key={s.key} class={`swatch s${i}`}>
            <input
              type="checkbox"
              checked={!hidden.has(s.key)}
              onChange={() => {
                const next = new Set(hidden)
                if (next.has(s.key)) next.delete(s.key)
                else next.add(s.key)
                setHidden(next)
              }}
            />
            {s.label}
          </label>
        ))}
        <span class="readout" aria-live="polite">
          {cursor !== undefined && labels[cursor] !== undefined
            ? `${dayLabel(labels[cursor]!)}: ${shown
                .map((s) => `${s.label} ${count(s.values[cursor] ?? 0)}`)
                .join(' · ')}`
            : ''}
        </span>
      </div>
      <div
        ref={box}
        class="plot"
        tabIndex={0}
        role="img"
        aria-label={`${title}, ${n} days. Use the arrow keys to read values.`}
        onMouseMove={(e) => pointerAt(e.clientX)}
        onMouseLeave={() => setCursor(undefined)}
        onKeyDown={(e) => {
          if (n === 0) return
          const current = cursor ?? n - 1
          const next =
            e.key === 'ArrowLeft'
              ? current - 1
              : e.key === 'ArrowRight'
                ? current + 1
                : e.key === 'Home'
                  ? 0
                  : e.key === 'End'
                    ? n - 1
                    : undefined
          if (next === undefined) return
          e.preventDefault()
          setCursor(Math.min(n - 1, Math.max(0, next)))
        }}
        onBlur={() => setCursor(undefined)}
      >
        <svg width={width} height={HEIGHT} aria-hidden="true">
          {ticks.map((v) => (
            <g key={v}>
              <line class="grid" x1={PAD.left} x2={width - PAD.right} y1={y(v)} y2={y(v)} />
              <text class="tick" x={PAD.left - 6} y={y(v) + 3} text-anchor="end">
                {short(v)}
              </text>
            </g>
          ))}
          {labels.map((label, i) => {
            const last = i === n - 1
            // The last day is always labelled; a regular label too close to it gives way.
            const shown = last || (i % labelEvery === 0 && n - 1 - i >= labelEvery * 0.75)
            return shown ? (
              <text
                key={label}
                class="tick"
                x={x(i)}
                y={HEIGHT - 6}
                text-anchor={last && n > 1 ? 'end' : 'middle'}
              >
                {dayLabel(label)}
              </text>
            ) : null
          })}
          {series.map((s, index) =>
            hidden.has(s.key) ? null : (
              <polyline
                key={s.key}
                class={`line s${index}`}
                points={s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}
              />
            ),
          )}
          {cursor !== undefined && (
            <g>
              <line
                class="cursor"
                x1={x(cursor)}
                x2={x(cursor)}
                y1={PAD.top}
                y2={PAD.top + plotH}
              />
              {series.map((s, index) =>
                hidden.has(s.key) ? null : (
                  <circle
                    key={s.key}
                    class={`dot s${index}`}
                    cx={x(cursor)}
                    cy={y(s.values[cursor] ?? 0)}
                    r={3}
                  />
                ),
              )}
            </g>
          )}
        </svg>
      </div>
    </figure>
  )
}
