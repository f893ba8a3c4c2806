import { Handle, Position, type Node, type NodeProps } from '@xyflow/react'
import { memo } from 'preact/compat'
import type { NodeType } from '../../../../domain/journeys/definition'
import type { Slot } from '../../models/journey-graph'

/** What a node draws; built once per definition change, so a drag re-renders no node. */
export interface JourneyNodeData extends Record<string, unknown> {
  type: NodeType
  summary: string
  slots: Slot[]
  start: boolean
  /** The API's problems on this node (an open slot shows as its handle). */
  problems: string[]
  /** Any problem, open slots included. */
  troubled: boolean
  overlay?: string
  highlight: boolean
}

export type JourneyFlowNode = Node<JourneyNodeData, 'journey'>

/**
 * One node: its type, id and what it does, a line of metrics when given, its problems, and a
 * labelled handle per outgoing slot to drag a link from (the left edge takes links in).
 */
function JourneyNodeView({ id, data, isConnectable }: NodeProps<JourneyFlowNode>) {
  const classes = ['journey-node', `kind-${data.type}`]
  if (data.troubled) classes.push('has-problems')
  if (data.highlight) classes.push('lit')
  return (
    <div class={classes.join(' ')}>
      <Handle type="target" position={Position.Left} isConnectable={isConnectable} />
      <div class="journey-node-head">
        <span class="journey-node-type">{data.type}</span>
        <span class="mono journey-node-id">{id}</span>
        {data.start && <span class="badge ok">start</span>}
      </div>
      <div class="journey-node-summary" title={data.summary}>
        {data.summary}
      </div>
      {data.overlay && <div class="journey-node-overlay">{data.overlay}</div>}
      {data.problems.length > 0 && (
        <ul class="journey-node-problems">
          {data.problems.map((problem) => (
            <li key={problem} title={problem}>
              {problem}
            </li>
          ))}
        </ul>
      )}
      {data.slots.length > 0 && (
        <ul class="journey-node-slots">
          {data.slots.map((slot) => (
            <li key={slot.handle} class={slot.target === '' ? 'open' : undefined}>
              {slot.label}
              <Handle
                type="source"
                position={Position.Right}
                id={slot.handle}
                isConnectable={isConnectable}
                aria-label={`${id} ${slot.label}`}
              />
            </li>
          ))}
        </ul>
      )}
    </div>
  )
}

export const JourneyNode = memo(JourneyNodeView)
