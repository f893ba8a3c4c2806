import { PURPOSES, type Purpose } from '../../../../domain/consent'
import { WEEKDAYS, type JourneyNode } from '../../../../domain/journeys/definition'
import type { PropertyCondition, Rule } from '../../../../domain/segments/rule'
import {
  DurationField,
  isArray,
  isObject,
  JsonField,
  NumberField,
  Rows,
  SelectField,
  TargetField,
  TextArea,
  TextField,
} from './node-fields'

/** The fields of every node type, one form per type; each change gives back the whole node. */

export interface Named {
  id: string
  name: string
}

export interface NodeFormProps<N extends JourneyNode = JourneyNode> {
  id: string
  node: N
  /** Every node id, for the slots' targets. */
  ids: string[]
  templates: Named[]
  lists?: Named[]
  onNode: (node: JourneyNode) => void
}

type Of<T extends JourneyNode['type']> = NodeFormProps<Extract<JourneyNode, { type: T }>>

export function NodeFields(props: NodeFormProps) {
  const { node } = props
  switch (node.type) {
    case 'wait':
      return <WaitForm {...props} node={node} />
    case 'waitUntil':
      return <WaitUntilForm {...props} node={node} />
    case 'waitFor':
      return <WaitForForm {...props} node={node} />
    case 'branch':
      return <BranchForm {...props} node={node} />
    case 'split':
      return <SplitForm {...props} node={node} />
    case 'experiment':
      return <ExperimentForm {...props} node={node} />
    case 'email':
      return <EmailForm {...props} node={node} />
    case 'webhook':
      return <WebhookForm {...props} node={node} />
    case 'updateTraits':
      return <UpdateTraitsForm {...props} node={node} />
    case 'list':
      return <ListForm {...props} node={node} />
    case 'ticket':
      return <TicketForm {...props} node={node} />
    case 'track':
      return <TrackForm {...props} node={node} />
    case 'nextBestAction':
      return <NextBestActionForm {...props} node={node} />
    case 'exit':
      return <p class="muted">An exit ends the contact's run here.</p>
  }
}

/** The node with an optional field set, or removed when empty. */
function withOptional<N extends JourneyNode, K extends string>(node: N, key: K, value: unknown): N {
  const next: Record<string, unknown> = { ...node }
  if (value === undefined || value === '') delete next[key]
  else next[key] = value
  return next as N
}

function Next({ node, ids, onNode }: Of<Exclude<JourneyNode['type'], NoNext>>) {
  return (
    <TargetField
      label="next"
      value={node.next}
      ids={ids}
      onValue={(next) => onNode({ ...node, next })}
    />
  )
}
type NoNext = 'branch' | 'split' | 'experiment' | 'nextBestAction' | 'exit'

function PurposeField({ node, onNode }: Of<'webhook'> | Of<'ticket'>) {
  return (
    <SelectField<Purpose>
      label="consent purpose needed (skipped without it)"
      value={node.purpose ?? ''}
      options={PURPOSES.map((purpose) => ({ value: purpose, label: purpose }))}
      onValue={(purpose) => onNode(withOptional(node, 'purpose', purpose))}
      empty="none"
    />
  )
}

function WaitForm(props: Of<'wait'>) {
  const { node, onNode } = props
  return (
    <>
      <DurationField
        legend="wait for"
        value={node.for}
        onValue={(duration) => onNode({ ...node, for: duration })}
      />
      <Next {...props} />
    </>
  )
}

function WaitUntilForm(props: Of<'waitUntil'>) {
  const { node, onNode } = props
  const days = node.days ?? []
  const toggle = (day: (typeof WEEKDAYS)[number], on: boolean) => {
    const chosen = WEEKDAYS.filter((d) => (d === day ? on : days.includes(d)))
    onNode(withOptional(node, 'days', chosen.length > 0 ? chosen : undefined))
  }
  return (
    <>
      <TextField
        label="time (HH:MM, 24-hour)"
        value={node.time}
        mono
        onValue={(time) => onNode({ ...node, time })}
      />
      <fieldset class="journey-days">
        <legend>days (none: any day)</legend>
        {WEEKDAYS.map((day) => (
          <label key={day} class="radio">
            <input
              type="checkbox"
              checked={days.includes(day)}
              onChange={(event) => toggle(day, event.currentTarget.checked)}
            />
            {day}
          </label>
        ))}
      </fieldset>
      <TextField
        label="time zone (empty: the contact's)"
        value={node.timezone ?? ''}
        placeholder="contact"
        onValue={(zone) => onNode(withOptional(node, 'timezone', zone))}
      />
      <Next {...props} />
    </>
  )
}

function WaitForForm(props: Of<'waitFor'>) {
  const { id, node, ids, onNode } = props
  return (
    <>
      <TextField
        label="event performed"
        value={node.performed}
        onValue={(performed) => onNode({ ...node, performed })}
      />
      <JsonField<PropertyCondition[]>
        key={`${id}-where`}
        label="where (property conditions, JSON list; optional)"
        placeholder='[{"property": "total", "op": "gt", "value": 50}]'
        value={node.where}
        optional
        check={isArray}
        onValue={(where) => onNode(withOptional(node, 'where', where))}
      />
      <DurationField
        legend="timeout"
        value={node.timeout}
        onValue={(timeout) => onNode({ ...node, timeout })}
      />
      <TargetField
        label="next (performed in time)"
        value={node.next}
        ids={ids}
        onValue={(next) => onNode({ ...node, next })}
      />
      <TargetField
        label="onTimeout"
        value={node.onTimeout}
        ids={ids}
        onValue={(onTimeout) => onNode({ ...node, onTimeout })}
      />
    </>
  )
}

function BranchForm({ id, node, ids, onNode }: Of<'branch'>) {
  return (
    <>
      <Rows
        legend="cases, tried in order"
        noun="case"
        items={node.cases}
        fresh={(): { rule: Rule; next: string } => ({
          rule: { trait: 'plan', op: 'exists' },
          next: '',
        })}
        onItems={(cases) => onNode({ ...node, cases })}
        row={(item, i, set) => (
          <>
            <JsonField<Rule>
              key={`${id}-case-${i}`}
              label={`case ${i + 1} rule (a segment rule as JSON)`}
              value={item.rule}
              check={isObject}
              onValue={(rule) => rule && set({ ...item, rule })}
            />
            <TargetField
              label={`case ${i + 1} next`}
              value={item.next}
              ids={ids}
              onValue={(next) => set({ ...item, next })}
            />
          </>
        )}
      />
      <TargetField
        label="otherwise"
        value={node.otherwise}
        ids={ids}
        onValue={(otherwise) => onNode({ ...node, otherwise })}
      />
    </>
  )
}

function SplitForm({ node, ids, onNode }: Of<'split'>) {
  return (
    <Rows
      legend="paths, by weight"
      noun="path"
      min={2}
      items={node.paths}
      fresh={() => ({ weight: 50, next: '' })}
      onItems={(paths) => onNode({ ...node, paths })}
      row={(item, i, set) => (
        <>
          <NumberField
            label={`path ${i + 1} weight`}
            value={item.weight}
            min={0}
            onValue={(weight) => set({ ...item, weight: weight ?? 0 })}
          />
          <TargetField
            label={`path ${i + 1} next`}
            value={item.next}
            ids={ids}
            onValue={(next) => set({ ...item, next })}
          />
        </>
      )}
    />
  )
}

function ExperimentForm({ node, ids, onNode }: Of<'experiment'>) {
  return (
    <>
      <Rows
        legend="paths, by weight"
        noun="path"
        min={2}
        items={node.paths}
        fresh={() => ({ name: `P${node.paths.length + 1}`, weight: 50, next: '' })}
        onItems={(paths) => onNode({ ...node, paths })}
        row={(item, i, set) => (
          <>
            <TextField
              label={`path ${i + 1} name`}
              value={item.name}
              onValue={(name) => set({ ...item, name })}
            />
            <NumberField
              label={`path ${i + 1} weight`}
              value={item.weight}
              min={0}
              onValue={(weight) => set({ ...item, weight: weight ?? 0 })}
            />
            <TargetField
              label={`path ${i + 1} next`}
              value={item.next}
              ids={ids}
              onValue={(next) => set({ ...item, next })}
            />
          </>
        )}
      />
      <NumberField
        label="contacts per path before the test reads (at least 10)"
        value={node.minPerPath}
        min={10}
        onValue={(minPerPath) => onNode({ ...node, minPerPath: minPerPath ?? 0 })}
      />
    </>
  )
}

function EmailForm(props: Of<'email'>) {
  const { node, templates, onNode } = props
  return (
    <>
      {templates.length > 0 ? (
        <SelectField
          label="template"
          value={node.template}
          options={templates.map((t) => ({ value: t.id, label: t.name }))}
          onValue={(template) => onNode({ ...node, template })}
        />
      ) : (
        <TextField
          label="template id"
          value={node.template}
          mono
          onValue={(template) => onNode({ ...node, template })}
        />
      )}
      <TextField
        label="subscription group (empty: the template's)"
        value={node.subscriptionGroup ?? ''}
        onValue={(group) => onNode(withOptional(node, 'subscriptionGroup', group))}
      />
      <Next {...props} />
    </>
  )
}

function WebhookForm(props: Of<'webhook'>) {
  const { id, node, onNode } = props
  return (
    <>
      <TextField label="URL" value={node.url} mono onValue={(url) => onNode({ ...node, url })} />
      <SelectField
        label="method"
        value={node.method ?? 'POST'}
        options={(['POST', 'PUT', 'PATCH'] as const).map((m) => ({ value: m, label: m }))}
        onValue={(method) => onNode({ ...node, method: method || 'POST' })}
      />
      <JsonField<Record<string, unknown>>
        key={`${id}-body`}
        label="body (JSON object; empty: the contact and run)"
        value={node.body}
        optional
        check={isObject}
        onValue={(body) => onNode(withOptional(node, 'body', body))}
      />
      <PurposeField {...props} />
      <Next {...props} />
    </>
  )
}

function UpdateTraitsForm(props: Of<'updateTraits'>) {
  const { id, node, onNode } = props
  return (
    <>
      <JsonField<Record<string, unknown>>
        key={`${id}-traits`}
        label="traits to set (JSON object)"
        value={node.traits}
        check={isObject}
        onValue={(traits) => onNode({ ...node, traits: traits ?? {} })}
      />
      <Next {...props} />
    </>
  )
}

function ListForm(props: Of<'list'>) {
  const { node, lists, onNode } = props
  const adds = 'add' in node
  const list = adds ? node.add : node.remove
  const setList = (name: string) =>
    onNode(
      adds
        ? { type: 'list', add: name, next: node.next }
        : { type: 'list', remove: name, next: node.next },
    )
  return (
    <>
      <SelectField
        label="action"
        value={adds ? 'add' : 'remove'}
        options={[
          { value: 'add', label: 'add to the list' },
          { value: 'remove', label: 'remove from the list' },
        ]}
        onValue={(action) =>
          onNode(
            action === 'remove'
              ? { type: 'list', remove: list, next: node.next }
              : { type: 'list', add: list, next: node.next },
          )
        }
      />
      {lists && lists.length > 0 ? (
        <SelectField
          label="list"
          value={list}
          options={lists.map((l) => ({ value: l.id, label: l.name }))}
          onValue={setList}
        />
      ) : (
        <TextField label="list id" value={list} mono onValue={setList} />
      )}
      <Next {...props} />
    </>
  )
}

function TicketForm(props: Of<'ticket'>) {
  const { node, onNode } = props
  return (
    <>
      <TextField
        label="subject"
        value={node.subject}
        onValue={(subject) => onNode({ ...node, subject })}
      />
      <TextArea label="body" value={node.body} onValue={(body) => onNode({ ...node, body })} />
      <PurposeField {...props} />
      <Next {...props} />
    </>
  )
}

function TrackForm(props: Of<'track'>) {
  const { id, node, onNode } = props
  return (
    <>
      <TextField label="event" value={node.event} onValue={(event) => onNode({ ...node, event })} />
      <JsonField<Record<string, unknown>>
        key={`${id}-properties`}
        label="properties (JSON object, optional)"
        value={node.properties}
        optional
        check={isObject}
        onValue={(properties) => onNode(withOptional(node, 'properties', properties))}
      />
      <Next {...props} />
    </>
  )
}

function NextBestActionForm({ node, ids, onNode }: Of<'nextBestAction'>) {
  return (
    <>
      <Rows
        legend="actions: the path for each action the prediction may pick"
        noun="action"
        items={node.actions}
        fresh={() => ({ action: '', next: '' })}
        onItems={(actions) => onNode({ ...node, actions })}
        row={(item, i, set) => (
          <>
            <TextField
              label={`action ${i + 1}`}
              value={item.action}
              onValue={(action) => set({ ...item, action })}
            />
            <TargetField
              label={`action ${i + 1} next`}
              value={item.next}
              ids={ids}
              onValue={(next) => set({ ...item, next })}
            />
          </>
        )}
      />
      <TargetField
        label="otherwise"
        value={node.otherwise}
        ids={ids}
        onValue={(otherwise) => onNode({ ...node, otherwise })}
      />
    </>
  )
}
