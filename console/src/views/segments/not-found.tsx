import { Empty, Link, PageHeader } from '../common'

export function NotFoundHere() {
  return (
    <>
      <PageHeader title="Page not found" />
      <Empty>
        <p>
          Nothing lives here. <Link href="/segments">All segments</Link>
        </p>
      </Empty>
    </>
  )
}
