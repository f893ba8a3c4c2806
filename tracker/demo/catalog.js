// Client-side routing for the catalog: no page loads, only history entries.
function render() {
  const params = new URLSearchParams(location.search)
  const category = params.get('category') || 'all'
  const byPrice = location.hash == '#sort-price'
  const items = Object.values(PRODUCTS)
    .filter((p) => category == 'all' || p.category == category)
    .sort((a, b) => (byPrice ? a.price - b.price : 0))
  document.title = `Cairn Outdoor — Catalog: ${category}`
  document.getElementById('list').innerHTML = items
    .map((p) => `<li>${p.name} — €${p.price}</li>`)
    .join('')
  document.querySelectorAll('[data-category]').forEach((a) => {
    if (a.dataset.category == category) a.setAttribute('aria-current', 'page')
    else a.removeAttribute('aria-current')
  })
}

document.addEventListener('click', (event) => {
  const tab = event.target.closest('[data-category]')
  if (tab) {
    event.preventDefault()
    history.pushState({}, '', tab.href)
    render()
  }
  if (event.target.id == 'sort') {
    event.preventDefault()
    history.replaceState({}, '', location.pathname + location.search + '#sort-price')
    render()
  }
})
addEventListener('popstate', render)
render()
