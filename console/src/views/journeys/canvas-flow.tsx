import { batch, useModel } from '@preact/signals'
import {
  Background,
  Controls,
  MarkerType,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
  type Connection,
  type Edge,
  type EdgeChange,
  type NodeChange,
  type OnConnectEnd,
} from '@xyflow/react'
import '@xyflow/react/dist/style.css'
import { useCallback, useEffect, useMemo, useRef } from 'preact/hooks'
import {
  NODE_TYPES,
  type JourneyDefinition,
  type NodeType,
} from '../../../../domain/journeys/definition'
import { JourneyEditorModel, placed } from '../../models/journey-editor'
import {
  addNode,
  connect,
  NODE_WIDTH,
  edges as graphEdges,
  openSlots,
  removeNode,
  slots,
  summary,
} from '../../models/journey-graph'
import type { JourneyCanvasProps } from './canvas'
import './canvas.css'
import { JourneyNode, type JourneyFlowNode, type JourneyNodeData } from './canvas-node'
import { NodePanel, NodePicker } from './canvas-panel'

const nodeTypes = { journey: JourneyNode }
const ORIGIN = { x: 0, y: 0 }
/**
 * Links focusable from the keyboard (then Enter selects, Delete removes): xyflow sets
 * `tabIndex` on the link's SVG group, which Preact writes as an attribute of that spelling, one
 * SVG does not know; the lower-case attribute is the one that works.
 */
const FOCUSABLE_LINK = { tabindex: 0 } as Edge['domAttributes']
const DELETE_KEYS = ['Delete', 'Backspace']

/**
 * The journey as a graph on a pannable, zoomable canvas (xyflow): a palette adds nodes, links
 * are dragged from a node's labelled handles, the side panel configures the selected node.
 * Positions live in the editor model; the definition belongs to the caller (`onChange`).
 */
export default function JourneyFlow(props: JourneyCanvasProps) {
  return (
    <ReactFlowProvider>
      <Flow {...props} />
    </ReactFlowProvider>
  )
}

function Flow(props: JourneyCanvasProps) {
  const { definition, editable, problems, overlay, highlight, choices } = props
  const editor = useModel(JourneyEditorModel)
  const flow = useReactFlow()
  const pane = useRef<HTMLDivElement>(null)
  /** A node just added, to bring into view once it has been measured. */
  const arriving = useRef<string | null>(null)
  useEffect(() => editor.fill(definition), [definition])
  const { onChange } = props
  const change = useCallback((next: JourneyDefinition) => onChange?.(next), [onChange])

  const names = useMemo(() => {
    const all = [
      ...(choices?.templates ?? []),
      ...(choices?.segments ?? []),
      ...(choices?.lists ?? []),
    ]
    return Object.fromEntries(all.map((named) => [named.id, named.name]))
  }, [choices])
  const shown = useMemo(() => allProblems(definition, problems ?? {}), [definition, problems])
  /** On the node itself an open slot shows as its red handle, so only the API's problems. */
  const given = useMemo(() => {
    const onNodes: Record<string, string[]> = {}
    for (const [id, lines] of Object.entries(shown)) {
      const theirs = lines.filter((line) => !line.endsWith(': not connected'))
      if (theirs.length > 0) onNodes[id] = theirs
    }
    return onNodes
  }, [shown])
  const data = useMemo(() => {
    const lit = new Set(highlight ?? [])
    const byId: Record<string, JourneyNodeData> = {}
    for (const [id, node] of Object.entries(definition.nodes)) {
      byId[id] = {
        type: node.type,
        summary: summary(node, names),
        slots: slots(node),
        start: id === definition.start,
        problems: given[id] ?? [],
        troubled: shown[id] !== undefined,
        overlay: overlay?.[id],
        highlight: lit.has(id),
      }
    }
    return byId
  }, [definition, names, shown, given, overlay, highlight])

  const kept = editor.positions.value
  const positions = useMemo(() => placed(definition, kept), [definition, kept])
  const sizes = editor.sizes.value
  const selectedNode = editor.selectedNode.value
  const selectedEdge = editor.selectedEdge.value
  // A node whose position, data, size and selection did not change keeps its object, so the
  // graph library re-measures and re-renders only the node being dragged.
  const built = useRef(new Map<string, JourneyFlowNode>())
  const nodes = useMemo(() => {
    const next = new Map<string, JourneyFlowNode>()
    for (const id of Object.keys(definition.nodes)) {
      const position = positions[id] ?? ORIGIN
      const selected = id === selectedNode
      const old = built.current.get(id)
      const same =
        old?.position === position &&
        old.data === data[id] &&
        old.measured === sizes[id] &&
        old.selected === selected
      next.set(
        id,
        same
          ? old
          : {
              id,
              type: 'journey',
              position,
              data: data[id]!,
              selected,
              measured: sizes[id],
              ariaLabel: `${data[id]!.type} ${id}: ${data[id]!.summary}`,
            },
      )
    }
    built.current = next
    return [...next.values()]
  }, [definition, data, positions, sizes, selectedNode])
  const edges = useMemo(
    () =>
      graphEdges(definition).map((edge): Edge => ({
        ...edge,
        selected: edge.id === selectedEdge,
        markerEnd: { type: MarkerType.ArrowClosed, width: 16, height: 16 },
        ariaLabel: `${edge.source} ${edge.sourceHandle} to ${edge.target}`,
        domAttributes: FOCUSABLE_LINK,
      })),
    [definition, selectedEdge],
  )

  const onNodesChange = (changes: NodeChange<JourneyFlowNode>[]) =>
    batch(() => {
      for (const c of changes) {
        if (c.type === 'position' && c.position) editor.move(definition, c.id, c.position)
        else if (c.type === 'dimensions' && c.dimensions) editor.measure(c.id, c.dimensions)
        else if (c.type === 'select' && c.selected) editor.select(c.id)
        else if (c.type === 'select') editor.deselect(c.id)
      }
    })
  const onEdgesChange = (changes: EdgeChange[]) =>
    batch(() => {
      for (const c of changes) {
        if (c.type === 'select' && c.selected) editor.selectEdge(c.id)
        else if (c.type === 'select') editor.deselect(c.id)
      }
    })
  const onConnect = (link: Connection) => {
    if (link.sourceHandle) change(connect(definition, link.source, link.sourceHandle, link.target))
  }
  /** Dropped on a node's body rather than its incoming handle: links to that node all the same. */
  const onConnectEnd: OnConnectEnd = (event, state) => {
    if (state.isValid || !state.fromNode || !state.fromHandle?.id) return
    const point = 'changedTouches' in event ? event.changedTouches[0]! : event
    const over = document.elementFromPoint(point.clientX, point.clientY)
    const target = over?.closest<HTMLElement>('.react-flow__node')?.dataset.id
    if (target && target !== state.fromNode.id) {
      change(connect(definition, state.fromNode.id, state.fromHandle.id, target))
    }
  }
  const onDelete = ({ nodes: gone, edges: cut }: { nodes: JourneyFlowNode[]; edges: Edge[] }) => {
    let next = gone.reduce((d, node) => removeNode(d, node.id), definition)
    for (const edge of cut) next = connect(next, edge.source, edge.sourceHandle ?? '', '')
    editor.select(null)
    change(next)
  }
  const add = (type: NodeType) => {
    const from = editor.selectedNode.value
    const added = addNode(definition, type, {
      from: from ?? undefined,
      firstTemplate: choices?.templates[0]?.id,
    })
    editor.placeNew(added.definition, added.id, from, viewMiddle())
    editor.select(added.id)
    arriving.current = added.id
    change(added.definition)
  }
  /** Where a node would sit in the middle of what the canvas shows. */
  const viewMiddle = () => {
    const box = pane.current?.getBoundingClientRect()
    if (!box) return { x: 0, y: 0 }
    const middle = flow.screenToFlowPosition({
      x: box.left + box.width / 2,
      y: box.top + box.height / 2,
    })
    return { x: middle.x - NODE_WIDTH / 2, y: middle.y - 40 }
  }
  /** Pans (keeping the zoom) until a measured node is wholly in view; false if not measured. */
  const bringIntoView = (id: string) => {
    const size = sizes[id]
    const at = positions[id]
    const box = pane.current?.getBoundingClientRect()
    if (!size || !at || !box) return false
    const corner = flow.flowToScreenPosition(at)
    const far = flow.flowToScreenPosition({ x: at.x + size.width, y: at.y + size.height })
    const inView =
      corner.x >= box.left && corner.y >= box.top && far.x <= box.right && far.y <= box.bottom
    if (!inView) {
      void flow.setCenter(at.x + size.width / 2, at.y + size.height / 2, {
        zoom: flow.getZoom(),
        duration: 200,
      })
    }
    return true
  }
  useEffect(() => {
    if (arriving.current && bringIntoView(arriving.current)) arriving.current = null
  }, [sizes])
  // The simulator's current step stays in sight as it moves along the graph.
  const lit = highlight?.[0]
  useEffect(() => {
    if (lit) bringIntoView(lit)
  }, [lit])
  const focus = useCallback(
    (id: string) => {
      editor.select(id)
      void flow.fitView({ nodes: [{ id }], duration: 200, maxZoom: 1 })
    },
    [editor, flow],
  )
  const renamed = useCallback((from: string, to: string) => editor.rename(from, to), [editor])
  const deleted = useCallback(() => editor.select(null), [editor])

  const panelNode = selectedNode && definition.nodes[selectedNode] ? selectedNode : null
  const total = Object.keys(definition.nodes).length
  const troubled = Object.keys(shown).length
  return (
    <div class={`journey-canvas${editable || panelNode ? '' : ' no-panel'}`}>
      {editable && (
        <nav class="journey-palette" aria-label="Add a node">
          <h4>Add</h4>
          {NODE_TYPES.map((type) => (
            <button
              key={type}
              type="button"
              class="small-button"
              title={`Add a ${type} node`}
              onClick={() => add(type)}
            >
              + {type}
            </button>
          ))}
          <p class="muted small">
            {selectedNode
              ? `A node added now follows ${selectedNode} (its first open slot).`
              : 'Select a node first to add the next one after it.'}
          </p>
        </nav>
      )}
      <div class="journey-flow" ref={pane}>
        <div class="journey-flow-status small">
          <span role="status">
            <span>
              {total} node{total === 1 ? '' : 's'} · {edges.length} link
              {edges.length === 1 ? '' : 's'}
            </span>
            <span>
              start <span class="mono">{definition.start || '(none)'}</span>
            </span>
            {troubled > 0 ? (
              <span class="bad-text">
                {troubled} node{troubled === 1 ? '' : 's'} with problems
              </span>
            ) : (
              total > 0 && <span class="muted">no problems shown</span>
            )}
          </span>
          <NodePicker definition={definition} selected={panelNode} onSelect={focus} />
          <button
            type="button"
            class="small-button"
            onClick={() => {
              editor.arrange()
              void flow.fitView({ duration: 200, maxZoom: 1 })
            }}
          >
            Arrange
          </button>
        </div>
        {total === 0 && (
          <p class="journey-flow-empty muted">
            No nodes yet{editable ? ': add the first from the list on the left.' : '.'}
          </p>
        )}
        <ReactFlow<JourneyFlowNode>
          nodes={nodes}
          edges={edges}
          nodeTypes={nodeTypes}
          onNodesChange={onNodesChange}
          onEdgesChange={onEdgesChange}
          onConnect={editable ? onConnect : undefined}
          onConnectEnd={editable ? onConnectEnd : undefined}
          onDelete={editable ? onDelete : undefined}
          onPaneClick={() => editor.select(null)}
          nodesConnectable={editable}
          deleteKeyCode={editable ? DELETE_KEYS : null}
          multiSelectionKeyCode={null}
          selectionKeyCode={null}
          minZoom={0.1}
          maxZoom={2}
          fitView
          fitViewOptions={{ maxZoom: 1, padding: 0.15 }}
        >
          <Background gap={16} size={1} />
          <Controls showInteractive={false} />
          <MiniMap
            style={{ width: 120, height: 80 }}
            pannable
            zoomable
            nodeColor={(node) => ((node.data as JourneyNodeData).troubled ? '#e6b4ae' : '#cdd2da')}
          />
        </ReactFlow>
      </div>
      {(editable || panelNode) && (
        <NodePanel
          definition={definition}
          editable={editable}
          selected={panelNode}
          problems={shown}
          choices={choices}
          onClose={deleted}
          onChange={change}
          onRenamed={renamed}
          onDeleted={deleted}
        />
      )}
    </div>
  )
}

/**
 * The caller's problems (the API's, by node) with each slot not yet connected, which the API
 * would refuse: a field the canvas already calls open is not repeated from the API.
 */
function allProblems(
  definition: JourneyDefinition,
  given: Record<string, string[]>,
): Record<string, string[]> {
  const open = openSlots(definition)
  const all: Record<string, string[]> = {}
  for (const id of Object.keys(definition.nodes)) {
    const local = open[id] ?? []
    const fields = new Set(local.map((line) => line.slice(0, line.indexOf(':'))))
    const theirs = (given[id] ?? []).filter((line) => !fields.has(line.split(':')[0]!))
    if (local.length + theirs.length > 0) all[id] = [...local, ...theirs]
  }
  return all
}
