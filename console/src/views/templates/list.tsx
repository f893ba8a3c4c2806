import { useEffect } from 'preact/hooks'
import { session } from '../../models/session'
import { mayEditTemplates, templateList, type Template } from '../../models/templates'
import { Async, Badge, Link, ListFooter, PageHeader } from '../common'
import { when } from '../format'

export function templateHref(id: string) {
  return `/templates/${encodeURIComponent(id)}`
}

export function TemplateList() {
  useEffect(() => {
    templateList.load()
  }, [])
  return (
    <>
      <PageHeader title="Templates">
        {mayEditTemplates(session.role.value) && (
          <Link class="button primary" href="/templates/new">
            New template
          </Link>
        )}
      </PageHeader>
      <div class="template-results" aria-busy={templateList.items.loading.value}>
        <Async
          req={templateList.items}
          retry={() => templateList.load()}
          empty="No templates yet. A template is an email in Liquid: write one to send it from journeys and the API."
        >
          {(items) => <TemplateTable items={items} />}
        </Async>
      </div>
    </>
  )
}

function TemplateTable({ items }: { items: Template[] }) {
  return (
    <>
      <table class="dense templates-table">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Id</th>
            <th scope="col">Kind</th>
            <th scope="col">Subject</th>
            <th scope="col">Updated</th>
          </tr>
        </thead>
        <tbody>
          {items.map((t) => (
            <tr key={t.id} data-template={t.id}>
              <td class="ellipsis">
                <Link href={templateHref(t.id)}>{t.name}</Link>
              </td>
              <td class="mono nowrap">{t.id}</td>
              <td>
                <Badge tone={t.kind === 'transactional' ? 'neutral' : 'ok'}>{t.kind}</Badge>
              </td>
              <td class="ellipsis subject mono" title={t.subject}>
                {t.subject}
              </td>
              <td class="nowrap">{when(t.updatedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <ListFooter shown={items.length} list={templateList} />
    </>
  )
}
