import { PageHeader } from '../common'

/** Placeholder until the Predictions screen lands (issue 26). */
export default function Screen({ path }: { path: string[] }) {
  return <PageHeader title="Predictions">{path.join('/')}</PageHeader>
}
