import { useEffect, useState } from 'preact/hooks'
import { contactSearch, type ContactSummary } from '../models/contacts'
import { route, setQuery } from '../models/router'
import { Async, Link, ListFooter, PageHeader } from './common'
import { count, inline, when } from './format'

export function contactHref(key: string, tab?: string) {
  return `/contacts/${encodeURIComponent(key)}${tab ? `/${tab}` : ''}`
}

/** A person-readable name from traits, if the contact has one. */
export function displayName(traits: Record<string, unknown>): string | undefined {
  const name = traits.name ?? [traits.firstName, traits.lastName].filter(Boolean).join(' ')
  return typeof name === 'string' && name ? name : undefined
}

export function ContactsScreen() {
  const q = route.query.value.get('q') ?? ''
  const [text, setText] = useState(q)
  useEffect(() => {
    setText(q)
    void contactSearch.search(q)
  }, [q])

  return (
    <>
      <PageHeader title="Contacts" />
      <form
        class="search"
        role="search"
        onSubmit={(event) => {
          event.preventDefault()
          setQuery({ q: text.trim() })
        }}
      >
        <label for="contact-search">Search by id, email or trait</label>
        <input
          id="contact-search"
          type="search"
          value={text}
          placeholder="user-42, ada@example.com, anon:…, plan"
          autoComplete="off"
          onInput={(e) => setText(e.currentTarget.value)}
        />
        <button type="submit">Search</button>
      </form>
      <Async
        req={contactSearch.results}
        retry={() => {
          contactSearch.invalidate()
          void contactSearch.search(q)
        }}
        empty={
          q ? <>No contact matches “{q}”.</> : <>No contacts yet. Events sent to /v1 create them.</>
        }
      >
        {(items) => <ContactTable items={items} />}
      </Async>
    </>
  )
}

function ContactTable({ items }: { items: ContactSummary[] }) {
  return (
    <>
      <table class="dense contacts-table">
        <thead>
          <tr>
            <th scope="col">Contact</th>
            <th scope="col">Email</th>
            <th scope="col">Name</th>
            <th scope="col">Traits</th>
            <th scope="col" class="num">
              Events
            </th>
            <th scope="col">First seen</th>
            <th scope="col">Last seen</th>
          </tr>
        </thead>
        <tbody>
          {items.map((contact) => (
            <tr key={contact.key}>
              <td class="mono ellipsis">
                <Link href={contactHref(contact.key)}>{contact.key}</Link>
              </td>
              <td class="ellipsis">{contact.email ?? '—'}</td>
              <td class="ellipsis">{displayName(contact.traits) ?? '—'}</td>
              <td class="ellipsis muted" title={inline(contact.traits)}>
                {Object.keys(contact.traits).length ? inline(contact.traits) : '—'}
              </td>
              <td class="num">{count(contact.eventCount)}</td>
              <td class="nowrap">{when(contact.firstSeen)}</td>
              <td class="nowrap">{when(contact.lastSeen)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <ListFooter shown={items.length} list={contactSearch} />
    </>
  )
}
