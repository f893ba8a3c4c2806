import type { JSX } from 'preact'
import type { JourneyDefinition } from '../../../../domain/journeys/definition'
import { lazyScreen } from '../lazy'

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

/**
 * The graph library comes with the canvas, a chunk of its own: the journeys list and the
 * other journey pages load without it.
 */
const Flow = lazyScreen<JourneyCanvasProps>('journey canvas', () => import('./canvas-flow'))

/** The journey graph, to edit (`editable`, changes through `onChange`) or to look at. */
export default function JourneyCanvas(props: JourneyCanvasProps): JSX.Element {
  return <Flow {...props} />
}
