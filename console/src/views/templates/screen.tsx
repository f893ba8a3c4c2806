import { PageHeader } from '../common'

/** Placeholder until the Templates screen lands (issue 26). */
export default function Screen({ path }: { path: string[] }) {
  return <PageHeader title="Templates">{path.join('/')}</PageHeader>
}
