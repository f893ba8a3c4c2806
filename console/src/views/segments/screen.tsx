import { NotFoundHere } from './not-found'
import { SegmentEditorScreen } from './editor'
import { SegmentListScreen } from './list'
import { SegmentMembersScreen } from './members'
import './segments.css'

/**
 * The Segments screens by URL: `/segments`, `/segments/new`, `/segments/:id`,
 * `/segments/:id/members`. Each segment's screens mount with `key`, so each gets its own model.
 */
export default function Screen({ path }: { path: string[] }) {
  const [id, tail, ...rest] = path
  if (!id) return <SegmentListScreen />
  if (id === 'new' && !tail) return <SegmentEditorScreen key="new" />
  if (!tail) return <SegmentEditorScreen key={id} id={id} />
  if (tail === 'members' && rest.length === 0) return <SegmentMembersScreen key={id} id={id} />
  return <NotFoundHere />
}
