import { computed, createModel, effect, signal } from '@preact/signals'
import { api, segment as pathPart, type ApiError, type ApiList } from './api'
import { pagedList } from './pages'
import { request } from './request'
import { navigate } from './router'
import {
  addChild,
  changeKind,
  defaultRule,
  find,
  fromRule,
  group,
  issuesOf,
  leaf,
  leafCount,
  move,
  negation,
  parentOf,
  placeIssues,
  remove,
  toRule,
  unwrap,
  updateLeaf,
  wrap,
  type GroupKind,
  type Kind,
  type LeafKind,
  type Node,
  type Rule,
} from './segment-rules'

/** A row of `GET /api/segments`. */
export interface Segment {
  id: string
  name: string
  rule: Rule
  createdAt: string
  updatedAt: string
  changedAt: string | null
  count: number
}

/** `GET /api/segments/:id`: with contacts entering and leaving per UTC day (90 days). */
export interface SegmentDetail extends Segment {
  history: { day: string; entered: number; exited: number }[]
}

export interface Preview {
  count: number
  sample: string[]
}

export interface Member {
  contactKey: string
  since: string
}

/** `GET /api/catalog`: what recent data holds, for the pickers. */
export interface Catalog {
  events: { name: string; count: number; lastSeen: string }[]
  traits: { path: string; types: string[]; seen: number }[]
  properties: { event: string; path: string; types: string[]; seen: number }[]
  bounds: {
    eventDays: number
    eventsSince: string
    contacts: number
    contactsRead: number
    events: number
    eventsRead: number
  }
}

/** Something a rule names by id: a list, subscription group, template, journey or segment. */
export interface Named {
  id: string
  name: string
}

export type ReferenceKind = 'lists' | 'groups' | 'templates' | 'journeys' | 'segments'

/** How long the builder waits after the last change before asking for a count. */
export const PREVIEW_DELAY_MS = 400

export const MEMBERS_PAGE = 100

/** Every segment with its member count, for the list screen and the `inSegment` picker. */
export const SegmentListModel = createModel(() => {
  const list = request<Segment[]>('segments.list')
  return {
    list,
    load() {
      return list.run(async () => (await api<ApiList<Segment>>('/segments')).items)
    },
  }
})

export const segmentList = new SegmentListModel()

const REFERENCE_PATHS: Record<Exclude<ReferenceKind, 'segments'>, string> = {
  lists: '/lists',
  groups: '/subscription-groups',
  templates: '/templates',
  journeys: '/journeys',
}

/**
 * What the builder's pickers offer: the catalog of names seen in the data, and the things rules
 * name by id. Read again each time a builder opens (what is shown stays meanwhile); each part
 * fails on its own.
 */
export const PickersModel = createModel(() => {
  const catalog = request<Catalog>('segments.catalog')
  const references = Object.fromEntries(
    (Object.keys(REFERENCE_PATHS) as (keyof typeof REFERENCE_PATHS)[]).map((kind) => [
      kind,
      request<Named[]>(`segments.${kind}`),
    ]),
  ) as Record<keyof typeof REFERENCE_PATHS, ReturnType<typeof request<Named[]>>>
  return {
    catalog,
    references,
    load() {
      void catalog.run(() => api<Catalog>('/catalog'))
      for (const [kind, path] of Object.entries(REFERENCE_PATHS)) {
        void references[kind as keyof typeof REFERENCE_PATHS].run(async () => {
          const answer = await api<ApiList<Named>>(path, { query: { limit: 1000 } })
          return answer.items.map(({ id, name }) => ({ id, name }))
        })
      }
      void segmentList.load()
    },
  }
})

export const pickers = new PickersModel()

/**
 * One segment being built or edited (`id` undefined: a new one). The rule is a tree of nodes
 * in a signal, changed only through the pure operations of segment-rules.ts; every change is
 * counted by the API's preview once the builder has been still for PREVIEW_DELAY_MS, and an
 * older answer arriving late is dropped by `request`.
 */
export const SegmentEditorModel = createModel(
  (id: string | undefined, draft: { name?: string; tree?: Node } = {}) => {
    const detail = request<SegmentDetail>('segment.detail')
    const name = signal(draft.name ?? '', { name: 'segment.name' })
    const tree = signal<Node>(draft.tree ?? group('all'), { name: 'segment.tree' })
    /** The saved name and rule, to tell what is unsaved. */
    const saved = signal<{ name: string; rule: string } | undefined>(undefined, {
      name: 'segment.saved',
    })
    const preview = request<Preview>('segment.preview')
    const save = request<Segment>('segment.save')
    const deletion = request<Segment>('segment.delete')

    const rule = computed(() => toRule(tree.value), { name: 'segment.rule' })
    /** The rule as text: equal rules are one preview, however the tree got there. */
    const ruleText = computed(() => JSON.stringify(rule.value), { name: 'segment.ruleText' })
    const empty = computed(() => leafCount(tree.value) === 0, { name: 'segment.empty' })
    const dirty = computed(
      () =>
        saved.value === undefined ||
        saved.value.name !== name.value.trim() ||
        saved.value.rule !== ruleText.value,
      { name: 'segment.dirty' },
    )
    /** The latest answer's problems, each at the rule it concerns (`''`: the request as a whole). */
    const issues = computed(
      () => {
        const error = save.error.value ?? preview.error.value
        return placeIssues(tree.value, issuesOf(error?.details))
      },
      { name: 'segment.issues' },
    )

    effect(() => {
      const text = ruleText.value
      if (empty.value) {
        preview.reset()
        return
      }
      const timer = setTimeout(() => {
        void preview.run(() =>
          api<Preview>('/segments/preview', { method: 'POST', body: { rule: JSON.parse(text) } }),
        )
      }, PREVIEW_DELAY_MS)
      return () => clearTimeout(timer)
    })

    function edit(next: Node) {
      if (next === tree.peek()) return
      tree.value = next
      // A refusal was about the rule as it was; the next preview speaks for the new one.
      if (save.error.peek()) save.reset()
    }

    function loaded(segment: Segment) {
      name.value = segment.name
      tree.value = fromRule(segment.rule)
      saved.value = { name: segment.name, rule: JSON.stringify(segment.rule) }
    }

    return {
      detail,
      name,
      tree,
      rule,
      ruleText,
      empty,
      dirty,
      issues,
      preview,
      save,
      deletion,
      async load() {
        if (!id) return
        const segment = await detail.run(() => api<SegmentDetail>(`/segments/${pathPart(id)}`))
        if (segment) loaded(segment)
      },
      /** Reads the counts again without touching the rule being edited. */
      refreshDetail() {
        if (id) void detail.run(() => api<SegmentDetail>(`/segments/${pathPart(id)}`))
      },
      rename(value: string) {
        name.value = value
        if (save.error.peek()) save.reset()
      },
      // The structural changes answer the node the keyboard's focus belongs on afterwards.
      add(groupId: string, kind: LeafKind | GroupKind | 'not'): string {
        const node =
          kind === 'all' || kind === 'any'
            ? group(kind, [leaf(defaultRule('trait'))])
            : kind === 'not'
              ? negation(leaf(defaultRule('trait')))
              : leaf(defaultRule(kind))
        edit(addChild(tree.peek(), groupId, node))
        return node.id
      },
      remove(nodeId: string): string {
        const parent = parentOf(tree.peek(), nodeId)
        edit(remove(tree.peek(), nodeId))
        return parent && find(tree.peek(), parent.id) ? parent.id : tree.peek().id
      },
      wrap(nodeId: string, kind: GroupKind | 'not'): string {
        edit(wrap(tree.peek(), nodeId, kind))
        return parentOf(tree.peek(), nodeId)?.id ?? nodeId
      },
      unwrap(nodeId: string): string {
        const node = find(tree.peek(), nodeId)
        edit(unwrap(tree.peek(), nodeId))
        const inner =
          node?.kind === 'not' ? node.child : node?.kind === 'leaf' ? node : node?.children[0]
        return inner?.id ?? tree.peek().id
      },
      move(nodeId: string, by: -1 | 1): string {
        edit(move(tree.peek(), nodeId, by))
        return nodeId
      },
      changeKind: (nodeId: string, kind: Kind) => edit(changeKind(tree.peek(), nodeId, kind)),
      update: (nodeId: string, next: Rule) => edit(updateLeaf(tree.peek(), nodeId, next)),
      async submit() {
        const body = { name: name.peek().trim(), rule: rule.peek() }
        // A rename alone sends no rule: a new rule makes every contact evaluate it again.
        const before = saved.peek()
        const changes = {
          name: before?.name === body.name ? undefined : body.name,
          rule: before?.rule === ruleText.peek() ? undefined : body.rule,
        }
        const result = await save.run(() =>
          id
            ? api<Segment>(`/segments/${pathPart(id)}`, { method: 'PUT', body: changes })
            : api<Segment>('/segments', { method: 'POST', body }),
        )
        if (!result) return
        saved.value = { name: result.name, rule: JSON.stringify(result.rule) }
        segmentList.list.reset()
        if (!id) navigate(`/segments/${encodeURIComponent(result.id)}`)
        else void detail.run(() => api<SegmentDetail>(`/segments/${pathPart(id)}`))
      },
      async destroy() {
        if (!id) return
        const result = await deletion.run(() =>
          api<Segment>(`/segments/${pathPart(id)}`, { method: 'DELETE' }),
        )
        if (!result) return
        segmentList.list.reset()
        navigate('/segments')
      },
    }
  },
)

export type SegmentEditor = InstanceType<typeof SegmentEditorModel>

/** Who a deletion was refused for: `details.usedBy` of a 409 segment_in_use. */
export function usersOf(error: ApiError | undefined): { kind: string; id: string; name: string }[] {
  const usedBy = (error?.details as { usedBy?: unknown } | undefined)?.usedBy
  return Array.isArray(usedBy) ? usedBy : []
}

/** A segment's members, paged through the API cursor, with its name and count. */
export const SegmentMembersModel = createModel((id: string) => {
  const detail = request<SegmentDetail>('segment.members.detail')
  const list = pagedList<Member>('segment.members', (after) =>
    api<ApiList<Member>>(`/segments/${pathPart(id)}/members`, {
      query: { limit: MEMBERS_PAGE, cursor: after },
    }),
  )
  return {
    ...list,
    detail,
    load() {
      void detail.run(() => api<SegmentDetail>(`/segments/${pathPart(id)}`))
      list.reload()
    },
  }
})

export type SegmentMembers = InstanceType<typeof SegmentMembersModel>
