import { useState } from 'preact/hooks'
import {
  DATE_OPS,
  JOURNEY_STATES,
  KIND_LABELS,
  LEAF_KINDS,
  MESSAGE_EVENTS,
  PREDICTIONS,
  PURPOSES,
  VALUE_OPS,
  kindOf,
  withOp,
  withTraitOp,
  type Kind,
  type LeafKind,
  type Node,
  type PlacedIssue,
  type Rule,
  type TraitOp,
} from '../../models/segment-rules'
import { pickers, segmentList, type SegmentEditor } from '../../models/segments'
import {
  ConditionList,
  CountEditor,
  DurationEditor,
  ChoiceSelect,
  OpSelect,
  ReferenceSelect,
  SuggestInput,
  ValueEditor,
  preferredType,
} from './inputs'

/**
 * The rule builder: the tree of all/any/not groups and rules, every control a labelled native
 * input or button (Tab, arrows and Enter do everything), each API problem shown under the rule
 * it names. It reads the editor model's signals and calls its actions, nothing else.
 */

const EVENT_LIST = 'segment-event-names'
const TRAIT_LIST = 'segment-trait-paths'
const BUILT_IN_EVENTS = ['$page', '$screen']
const TRAIT_OPS: readonly TraitOp[] = [...VALUE_OPS, ...DATE_OPS]
const ADDABLE: readonly Kind[] = [...LEAF_KINDS, 'all', 'any', 'not']

interface Context {
  editor: SegmentEditor
  /** The segment being edited, which its own rule cannot name. */
  self?: string
}

export function RuleBuilder({ editor, self }: Context) {
  const catalog = pickers.catalog.data.value
  const events = [...BUILT_IN_EVENTS, ...(catalog?.events.map((e) => e.name) ?? [])]
  return (
    <div class="rule-builder">
      <datalist id={EVENT_LIST}>
        {[...new Set(events)].map((name) => (
          <option key={name} value={name} />
        ))}
      </datalist>
      <datalist id={TRAIT_LIST}>
        {(catalog?.traits ?? []).map((t) => (
          <option key={t.path} value={t.path} />
        ))}
      </datalist>
      <NodeView node={editor.tree.value} ctx={{ editor, self }} place={{ index: 0, of: 1 }} root />
    </div>
  )
}

interface Place {
  index: number
  of: number
  /** Set when the node sits in an all/any group (so it can move within it). */
  inGroup?: boolean
}

function NodeView({
  node,
  ctx,
  place,
  root,
}: {
  node: Node
  ctx: Context
  place: Place
  root?: boolean
}) {
  const issues = ctx.editor.issues.value.get(node.id) ?? []
  if (node.kind === 'all' || node.kind === 'any') {
    const label = `${KIND_LABELS[node.kind]} ${node.children.length} rules`
    return (
      <div
        class="rule-group"
        role="group"
        aria-label={label}
        data-node={node.kind}
        data-node-id={node.id}
      >
        <div class="rule-row">
          <select
            aria-label="Match"
            class="rule-kind"
            value={node.kind}
            onChange={(e) => ctx.editor.changeKind(node.id, e.currentTarget.value as Kind)}
          >
            <option value="all">All of</option>
            <option value="any">Any of</option>
          </select>
          <span class="muted small">
            {node.kind === 'all' ? 'every rule below holds' : 'at least one rule below holds'}
          </span>
          <NodeActions node={node} ctx={ctx} place={place} root={root} />
        </div>
        {node.children.length > 0 && (
          <ol class="rule-children">
            {node.children.map((child, index) => (
              <li key={child.id}>
                <NodeView
                  node={child}
                  ctx={ctx}
                  place={{ index, of: node.children.length, inGroup: true }}
                />
              </li>
            ))}
          </ol>
        )}
        <AddRule groupId={node.id} ctx={ctx} empty={node.children.length === 0} />
        <Issues issues={issues} />
      </div>
    )
  }
  if (node.kind === 'not') {
    return (
      <div class="rule-not" role="group" aria-label="Not" data-node="not" data-node-id={node.id}>
        <div class="rule-row">
          <strong class="rule-not-label">Not</strong>
          <span class="muted small">the rule below does not hold</span>
          <NodeActions node={node} ctx={ctx} place={place} root={root} />
        </div>
        <div class="rule-children">
          <NodeView node={node.child} ctx={ctx} place={{ index: 0, of: 1 }} />
        </div>
        <Issues issues={issues} />
      </div>
    )
  }
  const kind = kindOf(node) as LeafKind
  return (
    <div
      class="rule-leaf"
      data-node={kind}
      data-node-id={node.id}
      aria-invalid={issues.length > 0 || undefined}
    >
      <div class="rule-row">
        <select
          aria-label="Rule kind"
          class="rule-kind"
          value={kind}
          onChange={(e) => ctx.editor.changeKind(node.id, e.currentTarget.value as Kind)}
        >
          {LEAF_KINDS.map((k) => (
            <option key={k} value={k}>
              {KIND_LABELS[k]}
            </option>
          ))}
        </select>
        <LeafFields
          id={node.id}
          rule={node.rule}
          ctx={ctx}
          invalid={(field) => issues.some((i) => i.field === field || i.field.startsWith(field))}
        />
        <NodeActions node={node} ctx={ctx} place={place} root={root} />
      </div>
      <Issues issues={issues} />
    </div>
  )
}

/**
 * Moves the keyboard's focus into node `id` once it is drawn (a structural change redraws the
 * nodes it moves, which drops focus): onto the control labelled `label`, or its first control.
 */
function focusIn(id: string, label?: string) {
  setTimeout(() => {
    const node = document.querySelector(`[data-node-id="${CSS.escape(id)}"]`)
    const labelled = label
      ? node?.querySelector<HTMLElement>(`[aria-label="${CSS.escape(label)}"]:not(:disabled)`)
      : null
    ;(labelled ?? node?.querySelector<HTMLElement>('select, input, button'))?.focus()
  })
}

function Issues({ issues }: { issues: readonly PlacedIssue[] }) {
  if (issues.length === 0) return null
  return (
    <ul class="rule-issues" data-issues>
      {issues.map((issue, i) => (
        <li key={i}>
          {issue.field && <code>{issue.field}</code>} {issue.message}
        </li>
      ))}
    </ul>
  )
}

function NodeActions({
  node,
  ctx,
  place,
  root,
}: {
  node: Node
  ctx: Context
  place: Place
  root?: boolean
}) {
  const { editor } = ctx
  const what = node.kind === 'leaf' ? 'rule' : node.kind === 'not' ? 'not' : 'group'
  // An empty root group has nothing to wrap or remove.
  if (root && (node.kind === 'all' || node.kind === 'any') && node.children.length === 0) {
    return null
  }
  const canUnwrap =
    node.kind === 'not' ||
    ((node.kind === 'all' || node.kind === 'any') && node.children.length === 1)
  return (
    <span class="rule-actions">
      {place.inGroup && (
        <>
          <button
            type="button"
            class="icon-button"
            aria-label={`Move ${what} up`}
            title="Move up"
            disabled={place.index === 0}
            onClick={() => focusIn(editor.move(node.id, -1), `Move ${what} up`)}
          >
            ↑
          </button>
          <button
            type="button"
            class="icon-button"
            aria-label={`Move ${what} down`}
            title="Move down"
            disabled={place.index === place.of - 1}
            onClick={() => focusIn(editor.move(node.id, 1), `Move ${what} down`)}
          >
            ↓
          </button>
        </>
      )}
      {node.kind !== 'not' && (
        <button
          type="button"
          class="small-button"
          aria-label={`Wrap ${what} in not`}
          title="Negate: wrap in Not"
          onClick={() => focusIn(editor.wrap(node.id, 'not'))}
        >
          not
        </button>
      )}
      <button
        type="button"
        class="small-button"
        aria-label={`Wrap ${what} in a group`}
        title="Wrap in an Any of group"
        onClick={() => focusIn(editor.wrap(node.id, 'any'))}
      >
        group
      </button>
      {canUnwrap && (
        <button
          type="button"
          class="small-button"
          aria-label={`Unwrap ${what}`}
          title="Replace by what it holds"
          onClick={() => focusIn(editor.unwrap(node.id))}
        >
          unwrap
        </button>
      )}
      <button
        type="button"
        class="icon-button danger"
        aria-label={root ? 'Clear the rule' : `Remove ${what}`}
        title={root ? 'Clear the rule' : 'Remove'}
        onClick={() => focusIn(editor.remove(node.id))}
      >
        ×
      </button>
    </span>
  )
}

function AddRule({ groupId, ctx, empty }: { groupId: string; ctx: Context; empty: boolean }) {
  const [kind, setKind] = useState<Kind>('trait')
  return (
    <div class="rule-add">
      {empty && <span class="muted small">No rules yet: everyone matches an empty group.</span>}
      <select
        aria-label="Kind of rule to add"
        value={kind}
        onChange={(e) => setKind(e.currentTarget.value as Kind)}
      >
        {ADDABLE.map((k) => (
          <option key={k} value={k}>
            {k === 'all' || k === 'any' ? `${KIND_LABELS[k]} (group)` : KIND_LABELS[k]}
          </option>
        ))}
      </select>
      <button
        type="button"
        class="small-button"
        onClick={() => focusIn(ctx.editor.add(groupId, kind))}
      >
        + Add rule
      </button>
    </div>
  )
}

/** The fields of one rule kind; `invalid(field)` says whether an API issue names the field. */
function LeafFields({
  id,
  rule,
  ctx,
  invalid,
}: {
  id: string
  rule: Rule
  ctx: Context
  invalid: (field: string) => boolean
}) {
  const set = (next: Rule) => ctx.editor.update(id, next)
  const catalog = pickers.catalog.data.value
  const refs = pickers.references

  if ('trait' in rule) {
    const preferred = preferredType(catalog?.traits.find((t) => t.path === rule.trait)?.types)
    return (
      <span class="rule-fields">
        <SuggestInput
          value={rule.trait}
          label="Trait"
          placeholder="trait, e.g. plan or address.city"
          listId={TRAIT_LIST}
          invalid={invalid('trait')}
          onChange={(trait) => set({ ...rule, trait })}
        />
        <OpSelect
          value={rule.op as TraitOp}
          ops={TRAIT_OPS}
          label="Comparison"
          onChange={(op) => set(withTraitOp(rule, op))}
        />
        {'duration' in rule ? (
          <DurationEditor
            value={rule.duration}
            label="Duration"
            invalid={invalid('duration')}
            onChange={(duration) => set({ ...rule, duration: duration ?? {} })}
          />
        ) : (
          <ValueEditor
            op={rule.op}
            value={rule.value}
            label="Value"
            preferred={preferred}
            invalid={invalid('value')}
            onChange={(value) => set({ ...rule, value })}
          />
        )}
      </span>
    )
  }
  if ('performed' in rule) {
    const properties = catalog?.properties.filter((p) => p.event === rule.performed) ?? []
    const listId = `segment-props-${id}`
    return (
      <span class="rule-fields">
        <SuggestInput
          value={rule.performed}
          label="Event"
          placeholder="event name"
          listId={EVENT_LIST}
          invalid={invalid('performed')}
          onChange={(performed) => set({ ...rule, performed })}
        />
        <CountEditor
          value={rule.count}
          label="How many times"
          invalid={invalid('count')}
          onChange={(count) => set(without({ ...rule, count }))}
        />
        <span class="muted">within</span>
        <DurationEditor
          value={rule.within}
          label="Within (empty: all time)"
          invalid={invalid('within')}
          onChange={(within) => set(without({ ...rule, within }))}
        />
        <ConditionList
          conditions={rule.where ?? []}
          label="where"
          properties={properties}
          listId={listId}
          issueAt={(i) => invalid(`where[${i}]`)}
          onChange={(where) => set(without({ ...rule, where: where.length ? where : undefined }))}
        />
        <PropertyList id={listId} paths={properties.map((p) => p.path)} />
      </span>
    )
  }
  if ('lastPerformed' in rule) {
    const properties = catalog?.properties.filter((p) => p.event === rule.lastPerformed) ?? []
    const listId = `segment-props-${id}`
    return (
      <span class="rule-fields">
        <SuggestInput
          value={rule.lastPerformed}
          label="Event"
          placeholder="event name"
          listId={EVENT_LIST}
          invalid={invalid('lastPerformed')}
          onChange={(lastPerformed) => set({ ...rule, lastPerformed })}
        />
        <ConditionList
          conditions={rule.where ?? []}
          label="where"
          properties={properties}
          listId={listId}
          issueAt={(i) => invalid(`where[${i}]`)}
          onChange={(where) => set(without({ ...rule, where: where.length ? where : undefined }))}
        />
        <ConditionList
          conditions={rule.has}
          label="has"
          properties={properties}
          listId={listId}
          required
          issueAt={(i) => invalid(`has[${i}]`)}
          onChange={(has) => set({ ...rule, has })}
        />
        <PropertyList id={listId} paths={properties.map((p) => p.path)} />
      </span>
    )
  }
  if ('consent' in rule) {
    return (
      <span class="rule-fields">
        <ChoiceSelect
          label="Purpose"
          value={rule.consent}
          choices={PURPOSES}
          onChange={(consent) => set({ ...rule, consent })}
        />
        <BooleanSelect
          label="Consent state"
          value={rule.granted}
          yes="granted"
          no="not granted"
          onChange={(granted) => set({ ...rule, granted })}
        />
      </span>
    )
  }
  if ('message' in rule) {
    return (
      <span class="rule-fields">
        <ChoiceSelect
          label="Message event"
          value={rule.message}
          choices={MESSAGE_EVENTS}
          onChange={(message) => set({ ...rule, message })}
        />
        <ReferenceSelect
          value={rule.template ?? ''}
          label="Template"
          options={refs.templates.data.value}
          placeholder="Template"
          allowNone="any template"
          invalid={invalid('template')}
          onChange={(template) => set(without({ ...rule, template: template || undefined }))}
        />
        <CountEditor
          value={rule.count}
          label="How many times"
          invalid={invalid('count')}
          onChange={(count) => set(without({ ...rule, count }))}
        />
        <span class="muted">within</span>
        <DurationEditor
          value={rule.within}
          label="Within (empty: all time)"
          invalid={invalid('within')}
          onChange={(within) => set(without({ ...rule, within }))}
        />
      </span>
    )
  }
  if ('subscribed' in rule) {
    return (
      <span class="rule-fields">
        <BooleanSelect
          label="Subscription state"
          value={rule.value}
          yes="subscribed to"
          no="not subscribed to"
          onChange={(value) => set({ ...rule, value })}
        />
        <ReferenceSelect
          value={rule.subscribed}
          label="Subscription group"
          options={refs.groups.data.value}
          placeholder="Choose a group"
          invalid={invalid('subscribed')}
          onChange={(subscribed) => set({ ...rule, subscribed })}
        />
      </span>
    )
  }
  if ('list' in rule) {
    return (
      <span class="rule-fields">
        <ReferenceSelect
          value={rule.list}
          label="List"
          options={refs.lists.data.value}
          placeholder="Choose a list"
          invalid={invalid('list')}
          onChange={(list) => set({ list })}
        />
      </span>
    )
  }
  if ('bucket' in rule) {
    return (
      <span class="rule-fields">
        <label class="rule-inline">
          <input
            type="number"
            class="rule-number"
            min={0.01}
            max={100}
            step={0.01}
            aria-invalid={invalid('bucket') || undefined}
            value={rule.bucket.percent}
            onInput={(e) =>
              set({ bucket: { ...rule.bucket, percent: Number(e.currentTarget.value) } })
            }
          />
          <span class="muted">% of contacts</span>
        </label>
        <label class="rule-inline">
          <span class="muted">salt</span>
          <input
            class="rule-text"
            value={rule.bucket.salt ?? ''}
            placeholder="optional"
            onInput={(e) => {
              const salt = e.currentTarget.value
              set({ bucket: without({ ...rule.bucket, salt: salt || undefined }) })
            }}
          />
        </label>
      </span>
    )
  }
  if ('inSegment' in rule) {
    const others = segmentList.list.data.value?.filter((s) => s.id !== ctx.self)
    return (
      <span class="rule-fields">
        <ReferenceSelect
          value={rule.inSegment}
          label="Segment"
          options={others}
          placeholder="Choose a segment"
          invalid={invalid('inSegment')}
          onChange={(inSegment) => set({ inSegment })}
        />
      </span>
    )
  }
  if ('journey' in rule) {
    return (
      <span class="rule-fields">
        <ReferenceSelect
          value={rule.journey}
          label="Journey"
          options={refs.journeys.data.value}
          placeholder="Choose a journey"
          invalid={invalid('journey')}
          onChange={(journey) => set({ ...rule, journey })}
        />
        <ChoiceSelect
          label="Journey state"
          value={rule.state}
          choices={JOURNEY_STATES}
          onChange={(state) => set({ ...rule, state })}
        />
      </span>
    )
  }
  if ('account' in rule) {
    const account = rule.account
    return (
      <span class="rule-fields">
        <input
          class="rule-text"
          aria-label="Account trait"
          placeholder="account trait, e.g. plan"
          aria-invalid={invalid('account.trait') || undefined}
          value={account.trait}
          onInput={(e) => set({ account: { ...account, trait: e.currentTarget.value } })}
        />
        <OpSelect
          value={account.op}
          ops={VALUE_OPS}
          label="Comparison"
          onChange={(op) => set({ account: withOp(account, op) })}
        />
        <ValueEditor
          op={account.op}
          value={account.value}
          label="Value"
          invalid={invalid('account.value')}
          onChange={(value) => set({ account: { ...account, value } })}
        />
      </span>
    )
  }
  // Groups never reach here: NodeView draws them.
  if (!('prediction' in rule)) return null
  return (
    <span class="rule-fields">
      <ChoiceSelect
        label="Prediction"
        value={rule.prediction}
        choices={PREDICTIONS}
        labels={PREDICTION_LABELS}
        onChange={(prediction) => set({ ...rule, prediction })}
      />
      <OpSelect
        value={rule.op}
        ops={VALUE_OPS}
        label="Comparison"
        onChange={(op) => set(withOp(rule, op))}
      />
      <ValueEditor
        op={rule.op}
        value={rule.value}
        label="Value"
        preferred="number"
        invalid={invalid('value')}
        onChange={(value) => set({ ...rule, value })}
      />
    </span>
  )
}

const PREDICTION_LABELS: Record<(typeof PREDICTIONS)[number], string> = {
  churnRisk: 'churn risk (0–1)',
  lapseRisk: 'chance of lapsing in 90 days (0–1)',
  engagement: 'engagement (0–100)',
  pAlive: 'chance still active (0–1)',
  clv: 'customer lifetime value',
}

function BooleanSelect({
  label,
  value,
  yes,
  no,
  onChange,
}: {
  label: string
  value: boolean
  yes: string
  no: string
  onChange: (value: boolean) => void
}) {
  return (
    <select
      aria-label={label}
      value={String(value)}
      onChange={(e) => onChange(e.currentTarget.value === 'true')}
    >
      <option value="true">{yes}</option>
      <option value="false">{no}</option>
    </select>
  )
}

function PropertyList({ id, paths }: { id: string; paths: string[] }) {
  return (
    <datalist id={id}>
      {paths.map((p) => (
        <option key={p} value={p} />
      ))}
    </datalist>
  )
}

/** The object without its undefined keys: the grammar's objects are strict. */
function without<T extends object>(object: T): T {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined)) as T
}
