import { memo } from 'preact/compat'
import { useId, useState } from 'preact/hooks'
import type { JourneyDefinition, JourneyNode } from '../../../../domain/journeys/definition'
import { idProblem, removeNode, renameNode, setStart, withNode } from '../../models/journey-graph'
import type { JourneyCanvasProps } from './canvas'
import { NodeFields } from './node-forms'

/**
 * The side panel (re-rendered only when what it shows changes, not on every frame of a drag):
 * every field of the selected node's type, its problems; rename it, make it the start or delete
 * it. Read-only shows the same, disabled, only while a node is selected.
 */
export const NodePanel = memo(function NodePanel({
  definition,
  editable,
  selected,
  problems,
  choices,
  onClose,
  onChange,
  onRenamed,
  onDeleted,
}: {
  definition: JourneyDefinition
  editable: boolean
  selected: string | null
  problems: Record<string, string[]>
  choices: JourneyCanvasProps['choices']
  onClose: () => void
  onChange: (next: JourneyDefinition) => void
  onRenamed: (from: string, to: string) => void
  onDeleted: () => void
}) {
  const node = selected ? definition.nodes[selected] : undefined
  return (
    <aside class="journey-panel" aria-label="Node settings">
      {!editable && (
        <button type="button" class="small-button journey-panel-close" onClick={onClose}>
          Close
        </button>
      )}
      {selected && node ? (
        <NodeSettings
          key={selected}
          id={selected}
          node={node}
          definition={definition}
          editable={editable}
          problems={problems[selected] ?? []}
          choices={choices}
          onChange={onChange}
          onRenamed={onRenamed}
          onDeleted={onDeleted}
        />
      ) : (
        <div class="muted small journey-panel-help">
          <p>Select a node on the canvas or in the Node list above it to change it.</p>
          {editable && (
            <p>
              Drag from a node's labelled handle (next, onTimeout, case 1 …) to another node to link
              them; Delete removes the selected node or link.
            </p>
          )}
        </div>
      )}
    </aside>
  )
})

/** Any node by id, from the keyboard: selects it and brings it into view. */
export const NodePicker = memo(function NodePicker({
  definition,
  selected,
  onSelect,
}: {
  definition: JourneyDefinition
  selected: string | null
  onSelect: (id: string) => void
}) {
  const pick = useId()
  return (
    <span class="journey-picker">
      <label for={pick}>Node</label>
      <select
        id={pick}
        value={selected ?? ''}
        onChange={(event) => event.currentTarget.value && onSelect(event.currentTarget.value)}
      >
        <option value="">— choose —</option>
        {Object.entries(definition.nodes).map(([id, node]) => (
          <option key={id} value={id}>
            {id} ({node.type})
          </option>
        ))}
      </select>
    </span>
  )
})

function NodeSettings({
  id,
  node,
  definition,
  editable,
  problems,
  choices,
  onChange,
  onRenamed,
  onDeleted,
}: {
  id: string
  node: JourneyNode
  definition: JourneyDefinition
  editable: boolean
  problems: string[]
  choices: JourneyCanvasProps['choices']
  onChange: (next: JourneyDefinition) => void
  onRenamed: (from: string, to: string) => void
  onDeleted: () => void
}) {
  const isStart = definition.start === id
  return (
    <section class="journey-settings" aria-label={`${node.type} ${id}`}>
      <h2>
        {node.type} <span class="mono">{id}</span> {isStart && <span class="badge ok">start</span>}
      </h2>
      {problems.length > 0 && (
        <ul class="plain journey-settings-problems" aria-label="Problems">
          {problems.map((problem) => (
            <li key={problem} class="bad-text">
              {problem}
            </li>
          ))}
        </ul>
      )}
      {editable && (
        <Rename
          id={id}
          definition={definition}
          onRename={(to) => {
            onRenamed(id, to)
            onChange(renameNode(definition, id, to))
          }}
        />
      )}
      <form class="form" onSubmit={(event) => event.preventDefault()}>
        <fieldset disabled={!editable}>
          <NodeFields
            id={id}
            node={node}
            ids={Object.keys(definition.nodes)}
            templates={choices?.templates ?? []}
            lists={choices?.lists}
            onNode={(changed) => onChange(withNode(definition, id, changed))}
          />
        </fieldset>
      </form>
      {editable && (
        <div class="toolbar journey-settings-actions">
          <button
            type="button"
            disabled={isStart}
            onClick={() => onChange(setStart(definition, id))}
          >
            {isStart ? 'Is the start' : 'Set as start'}
          </button>
          <button
            type="button"
            class="danger"
            onClick={() => {
              onDeleted()
              onChange(removeNode(definition, id))
            }}
          >
            Delete node
          </button>
        </div>
      )}
    </section>
  )
}

function Rename({
  id,
  definition,
  onRename,
}: {
  id: string
  definition: JourneyDefinition
  onRename: (to: string) => void
}) {
  const [name, setName] = useState(id)
  const problem = name === id ? null : idProblem(definition, name, id)
  return (
    <form
      class="form inline-form journey-rename"
      onSubmit={(event) => {
        event.preventDefault()
        if (!problem && name !== id) onRename(name)
      }}
    >
      <label class="grow">
        id
        <input
          class="mono"
          value={name}
          aria-invalid={problem ? true : undefined}
          onInput={(event) => setName(event.currentTarget.value)}
        />
      </label>
      <button type="submit" disabled={name === id || problem !== null}>
        Rename
      </button>
      {problem && (
        <span class="bad-text small" role="alert">
          {problem}
        </span>
      )}
    </form>
  )
}
