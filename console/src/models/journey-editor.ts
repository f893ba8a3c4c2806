import { createModel, signal } from '@preact/signals'
import type { JourneyDefinition } from '../../../domain/journeys/definition'
import { layout, NODE_WIDTH, type Point } from './journey-graph'

/**
 * What the journey canvas remembers beside the definition: where each node sits (the grammar
 * has no positions, so a reload lays the graph out afresh), the node measured sizes the graph
 * library reports, and which node or link is selected. One per canvas.
 */
export const JourneyEditorModel = createModel(() => {
  const positions = signal<Record<string, Point>>({}, { name: 'journeyEditor.positions' })
  const sizes = signal<Record<string, { width: number; height: number }>>(
    {},
    { name: 'journeyEditor.sizes' },
  )
  const selectedNode = signal<string | null>(null, { name: 'journeyEditor.selectedNode' })
  const selectedEdge = signal<string | null>(null, { name: 'journeyEditor.selectedEdge' })

  /**
   * Every node's position: where it was put or dragged, else the layered layout's (so a
   * definition replaced from outside, another version, still draws).
   */
  function placed(definition: JourneyDefinition): Record<string, Point> {
    const kept = positions.value
    const missing = Object.keys(definition.nodes).some((id) => !kept[id])
    return missing ? { ...layout(definition), ...kept } : kept
  }

  return {
    positions,
    sizes,
    selectedNode,
    selectedEdge,
    placed,

    /** Keeps the layout's place for nodes that arrived without one (run after a render). */
    fill(definition: JourneyDefinition) {
      const all = placed(definition)
      if (all !== positions.value) positions.value = all
    },

    move(id: string, to: Point) {
      positions.value = { ...positions.value, [id]: to }
    },

    measure(id: string, size: { width: number; height: number }) {
      sizes.value = { ...sizes.value, [id]: size }
    },

    /** Lays every node out afresh, forgetting where they were dragged. */
    arrange(definition: JourneyDefinition) {
      positions.value = layout(definition)
    },

    /**
     * Puts a new node right of the one it follows, else at `spot` (the middle of the view),
     * moved down while it would cover another node's corner.
     */
    placeNew(definition: JourneyDefinition, id: string, after: string | null, spot: Point) {
      const at = placed(definition)
      const from = after ? at[after] : undefined
      const others = Object.entries(at)
        .filter(([other]) => other !== id)
        .map(([, p]) => p)
      const place = from ? { x: from.x + NODE_WIDTH + 80, y: from.y } : { ...spot }
      while (others.some((p) => Math.abs(p.x - place.x) < 40 && Math.abs(p.y - place.y) < 40)) {
        place.y += 48
      }
      positions.value = { ...at, [id]: place }
    },

    rename(from: string, to: string) {
      const { [from]: at, ...rest } = positions.value
      if (at) positions.value = { ...rest, [to]: at }
      if (selectedNode.value === from) selectedNode.value = to
    },

    select(id: string | null) {
      selectedNode.value = id
      selectedEdge.value = null
    },

    selectEdge(id: string | null) {
      selectedEdge.value = id
      if (id) selectedNode.value = null
    },
  }
})
