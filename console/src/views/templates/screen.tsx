import { TemplateEditor } from './editor'
import { TemplateList } from './list'
import './templates.css'

/**
 * `/templates` lists the email templates, `/templates/new` starts one and `/templates/:id`
 * edits one; `?contact=` names the contact the preview renders for, so a reload keeps it.
 */
export default function TemplatesScreen({ path }: { path: string[] }) {
  const [id] = path
  if (!id) return <TemplateList />
  return <TemplateEditor key={id} id={id === 'new' ? null : id} />
}
