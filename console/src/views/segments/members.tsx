import { useModel } from '@preact/signals'
import { useEffect } from 'preact/hooks'
import { SegmentMembersModel } from '../../models/segments'
import { Async, Link, ListFooter, PageHeader } from '../common'
import { contactHref } from '../contacts'
import { count, when } from '../format'
import { segmentHref } from './list'

/** `/segments/:id/members`: the members as the contacts last reported them, paged. */
export function SegmentMembersScreen({ id }: { id: string }) {
  const members = useModel(() => new SegmentMembersModel(id))
  useEffect(() => {
    members.load()
  }, [members])
  const segment = members.detail.data.value
  const name = segment?.name ?? id
  return (
    <>
      <p class="breadcrumb">
        <Link href="/segments">Segments</Link> <span aria-hidden="true">/</span>{' '}
        <Link href={segmentHref(id)}>{name}</Link> <span aria-hidden="true">/</span>{' '}
        <span>Members</span>
      </p>
      <PageHeader title={`Members of ${name}`}>
        {segment && <span class="muted">{count(segment.count)} now</span>}
        <button type="button" onClick={() => members.load()}>
          Refresh
        </button>
      </PageHeader>
      <div aria-busy={members.items.loading.value}>
        <Async
          req={members.items}
          retry={() => members.load()}
          errorTitle={(e) => (e.status === 404 ? 'No such segment' : undefined)}
          empty="No members yet. A new or changed segment fills in the background."
          loadingLabel="Loading members…"
        >
          {(items) => (
            <>
              <table class="dense segment-members">
                <thead>
                  <tr>
                    <th scope="col">Contact</th>
                    <th scope="col">Member since</th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((m) => (
                    <tr key={m.contactKey} data-member={m.contactKey}>
                      <td class="mono ellipsis">
                        <Link href={contactHref(m.contactKey)}>{m.contactKey}</Link>
                      </td>
                      <td class="nowrap">{when(m.since)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <ListFooter shown={items.length} list={members} />
            </>
          )}
        </Async>
      </div>
    </>
  )
}
