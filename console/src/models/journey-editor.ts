import { createModel, signal } from '@preact/signals'
import type { JourneyDefinition } from '../../../domain/journeys/definition'
import { layout, NODE_WIDTH, type Point } from './journey-graph'

/**
 * Every node's position. Until a node is dragged (`kept` null) the layered layout places every
 * node, so a journey built from the palette stays tidy as it grows; after that, where each was
 * put or dragged, and the layout's place for a node that arrived without one (a definition
 * replaced from outside). A plain function, so a view reading the signal itself re-renders when
 * it changes (model methods run untracked).
 */
export function placed(
  definition: JourneyDefinition,
  kept: Record<string, Point> | null,
): Record<string, Point> {
  if (kept === null) return layout(definition)
  const missing = Object.keys(definition.nodes).some((id) => !kept[id])
  return missing ? { ...layout(definition), ...kept } : kept
}

/**
 * What the journey canvas remembers beside the definition: where each node sits (the grammar
 * has no positions, so a reload lays the graph out afresh), the node sizes the graph library
 * measured, and which node or link is selected. One per canvas.
 */
export const JourneyEditorModel = createModel(() => {
  const positions = signal<Record<string, Point> | null>(null, { name: 'journeyEditor.positions' })
  const sizes = signal<Record<string, { width: number; height: number }>>(
    {},
    { name: 'journeyEditor.sizes' },
  )
  const selectedNode = signal<string | null>(null, { name: 'journeyEditor.selectedNode' })
  const selectedEdge = signal<string | null>(null, { name: 'journeyEditor.selectedEdge' })

  return {
    positions,
    sizes,
    selectedNode,
    selectedEdge,

    /** Keeps the layout's place for nodes that arrived without one (run after a render). */
    fill(definition: JourneyDefinition) {
      if (positions.value === null) return
      const all = placed(definition, positions.value)
      if (all !== positions.value) positions.value = all
    },

    /** A node dragged: from now on every node keeps its place. */
    move(definition: JourneyDefinition, id: string, to: Point) {
      positions.value = { ...placed(definition, positions.value), [id]: to }
    },

    measure(id: string, size: { width: number; height: number }) {
      sizes.value = { ...sizes.value, [id]: size }
    },

    /** Back to the layered layout, forgetting where nodes were dragged. */
    arrange() {
      positions.value = null
    },

    /**
     * Once nodes keep their places, puts a new node right of the one it follows, else at `spot`
     * (the middle of the view), moved down while it would cover another node's corner.
     */
    placeNew(definition: JourneyDefinition, id: string, after: string | null, spot: Point) {
      if (positions.value === null) return
      const at = placed(definition, positions.value)
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
      if (positions.value) {
        const { [from]: at, ...rest } = positions.value
        if (at) positions.value = { ...rest, [to]: at }
      }
      if (selectedNode.value === from) selectedNode.value = to
    },

    select(id: string | null) {
      selectedNode.value = id
      selectedEdge.value = null
    },

    /** The graph library unselects one node or link (another being selected, say). */
    deselect(id: string) {
      if (selectedNode.value === id) selectedNode.value = null
      if (selectedEdge.value === id) selectedEdge.value = null
    },

    selectEdge(id: string | null) {
      selectedEdge.value = id
      if (id) selectedNode.value = null
    },
  }
})
