import { PageHeader } from '../common'

/** Placeholder until the KPIs screen lands (issue 26). */
export default function Screen({ path }: { path: string[] }) {
  return <PageHeader title="KPIs">{path.join('/')}</PageHeader>
}
