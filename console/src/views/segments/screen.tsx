import { PageHeader } from '../common'

/** Placeholder until the Segments screen lands (issue 26). */
export default function Screen({ path }: { path: string[] }) {
  return <PageHeader title="Segments">{path.join('/')}</PageHeader>
}
