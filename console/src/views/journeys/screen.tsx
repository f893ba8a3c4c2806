import { PageHeader } from '../common'

/** Placeholder until the Journeys screen lands (issue 26). */
export default function Screen({ path }: { path: string[] }) {
  return <PageHeader title="Journeys">{path.join('/')}</PageHeader>
}
