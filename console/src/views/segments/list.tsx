import { useEffect } from 'preact/hooks'
import { may } from '../../models/access'
import { summarize } from '../../models/segment-rules'
import { segmentList, type Segment } from '../../models/segments'
import { session } from '../../models/session'
import { Async, Link, PageHeader } from '../common'
import { count, when } from '../format'

export function segmentHref(id: string, tail = '') {
  return `/segments/${encodeURIComponent(id)}${tail}`
}

/** `/segments`: every segment with its member count and when someone last entered or left. */
export function SegmentListScreen() {
  useEffect(() => {
    void segmentList.load()
  }, [])
  const canEdit = may(session.role.value, 'editSegments')
  return (
    <>
      <PageHeader title="Segments">
        {canEdit && (
          <Link class="button primary" href="/segments/new">
            New segment
          </Link>
        )}
      </PageHeader>
      <div aria-busy={segmentList.list.loading.value}>
        <Async
          req={segmentList.list}
          retry={() => void segmentList.load()}
          empty={
            <p>
              No segments yet.{' '}
              {canEdit && (
                <Link href="/segments/new">Build one from traits, events and consent.</Link>
              )}
            </p>
          }
          loadingLabel="Loading segments…"
        >
          {(items) => <SegmentTable items={items} />}
        </Async>
      </div>
    </>
  )
}

function SegmentTable({ items }: { items: Segment[] }) {
  const sorted = [...items].sort((a, b) => a.name.localeCompare(b.name))
  return (
    <table class="dense segments-table">
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col" class="num">
            Members
          </th>
          <th scope="col">Last changed</th>
          <th scope="col">Rule</th>
          <th scope="col">Edited</th>
        </tr>
      </thead>
      <tbody>
        {sorted.map((s) => {
          const rule = summarize(s.rule)
          return (
            <tr key={s.id} data-segment={s.id}>
              <td class="ellipsis">
                <Link href={segmentHref(s.id)}>{s.name}</Link>
              </td>
              <td class="num">
                <Link href={segmentHref(s.id, '/members')} aria-label={`${s.name}: members`}>
                  {count(s.count)}
                </Link>
              </td>
              <td class="nowrap" title="When a contact last entered or left">
                {s.changedAt ? when(s.changedAt) : 'never'}
              </td>
              <td class="mono ellipsis segment-rule" title={rule}>
                {rule}
              </td>
              <td class="nowrap muted">{when(s.updatedAt)}</td>
            </tr>
          )
        })}
      </tbody>
    </table>
  )
}
