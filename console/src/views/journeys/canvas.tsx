import type { JSX } from 'preact'
import type { JourneyDefinition } from '../../../../domain/journeys/definition'

export interface JourneyCanvasProps {
  definition: JourneyDefinition
  editable: boolean
  onChange?: (next: JourneyDefinition) => void
  /** node id → problems to show on that node (validation). */
  problems?: Record<string, string[]>
  /** node id → short text drawn on the node (metrics overlay, e.g. "12 waiting · 30 done"). */
  overlay?: Record<string, string>
  /** node ids to light up (the simulator's current step). */
  highlight?: string[]
  /** Templates and segments to pick from in node forms. */
  choices?: {
    templates: { id: string; name: string }[]
    segments: { id: string; name: string }[]
    lists?: { id: string; name: string }[]
  }
}

/** The journey's nodes as a list, until the graph canvas lands (issue 26). */
export default function JourneyCanvas(props: JourneyCanvasProps): JSX.Element {
  const { definition, problems = {}, overlay = {}, highlight = [] } = props
  return (
    <ul class="journey-canvas">
      {Object.entries(definition.nodes).map(([id, node]) => (
        <li key={id} data-node-id={id} class={highlight.includes(id) ? 'highlight' : undefined}>
          {node.type} {id}
          {id === definition.start ? ' (start)' : ''}
          {overlay[id] ? ` · ${overlay[id]}` : ''}
          {(problems[id] ?? []).map((problem) => (
            <span key={problem} role="alert">
              {' '}
              {problem}
            </span>
          ))}
        </li>
      ))}
    </ul>
  )
}
