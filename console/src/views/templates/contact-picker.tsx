import { useModel } from '@preact/signals'
import { ContactPickerModel } from '../../models/templates'
import { ErrorNotice } from '../common'

/**
 * The contact the preview renders for: a search by id, email or trait, its matches as buttons.
 * The chosen contact lives in the URL (`?contact=`), set through `onChoose`.
 */
export function ContactPicker({
  chosen,
  onChoose,
}: {
  chosen: string
  onChoose: (key: string) => void
}) {
  const picker = useModel(ContactPickerModel)
  const results = picker.results.data.value
  const searching = picker.query.value.trim() !== ''
  return (
    <div class="contact-picker" data-contact-picker>
      <div class="chosen">
        <span class="muted small">Preview for</span>{' '}
        {chosen ? (
          <strong class="mono" data-chosen-contact>
            {chosen}
          </strong>
        ) : (
          <span class="muted">no contact yet</span>
        )}
      </div>
      <label class="picker-search">
        <span class="sr-only">Find a contact by id, email or trait</span>
        <input
          type="search"
          value={picker.query.value}
          placeholder="Find a contact: id, email or trait"
          autoComplete="off"
          onInput={(e) => picker.search(e.currentTarget.value)}
        />
      </label>
      {picker.results.error.value && <ErrorNotice error={picker.results.error.value} />}
      {searching && results && (
        <ul class="picker-results" aria-label="Matching contacts" aria-live="polite">
          {results.length === 0 && <li class="muted small">No contact matches.</li>}
          {results.map((contact) => (
            <li key={contact.key}>
              <button
                type="button"
                class="link-button"
                data-contact={contact.key}
                onClick={() => {
                  onChoose(contact.key)
                  picker.clear()
                }}
              >
                <span class="mono">{contact.key}</span>
                {contact.email && <span class="muted"> · {contact.email}</span>}
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  )
}
