// Cairn's async stub: calls made before /t.js has loaded are queued in cairn.q and replayed by
// it. Loaded as a first-party file rather than inline, so the demo runs under a strict CSP
// (script-src 'self') without a nonce.
window.cairn =
  window.cairn ||
  (function (c) {
    ;['page', 'track', 'identify', 'group', 'alias', 'consent', 'reset'].forEach(function (m) {
      c[m] = function () {
        c.q.push([m, [].slice.call(arguments)])
      }
    })
    return c
  })({ q: [] })

// The demo shop's own state: a one-line cart in sessionStorage.
const PRODUCTS = {
  boots: { id: 'boots', name: 'Trail Boots', price: 129, category: 'footwear' },
  jacket: { id: 'jacket', name: 'Rain Jacket', price: 89, category: 'outerwear' },
  socks: { id: 'socks', name: 'Merino Socks', price: 19, category: 'footwear' },
}

function cart() {
  return JSON.parse(sessionStorage.getItem('demo-cart') || '[]')
}

function addToCart(id) {
  const product = PRODUCTS[id]
  sessionStorage.setItem('demo-cart', JSON.stringify([...cart(), id]))
  cairn.track('Product Added', { product_id: id, name: product.name, price: product.price })
  showCart()
}

function showCart() {
  const el = document.getElementById('cart')
  if (el) el.textContent = `Cart: ${cart().length} item(s)`
}

// The consent banner: the decision goes to Cairn (and is remembered by the tracker).
function decide(granted) {
  cairn.consent(
    { analytics: granted, marketing: granted, personalization: granted, advertising: granted },
    '2024-06',
    'banner',
  )
  localStorage.setItem('demo-consent-shown', '1')
  document.getElementById('consent')?.remove()
}

// The layout every page shares (header, consent banner, footer), built here once rather than
// repeated in each page; DOM calls, so it runs under the demo's strict CSP.
function el(tag, attributes, ...children) {
  const node = document.createElement(tag)
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value)
  node.append(...children)
  return node
}

const SPRING_SALE =
  'index.html?utm_source=newsletter&utm_medium=email&utm_campaign=spring_sale&utm_content=hero&gclid=demo-gclid-123'

function renderLayout() {
  document.body.prepend(
    el(
      'header',
      {},
      el('h1', {}, el('a', { href: 'index.html' }, 'Cairn Outdoor')),
      el(
        'nav',
        {},
        el('a', { href: 'catalog.html' }, 'Catalog'),
        el('a', { href: 'signup.html' }, 'Sign up'),
        el('a', { href: 'checkout.html' }, 'Checkout'),
      ),
      el('span', { id: 'cart' }),
    ),
  )
  if (!localStorage.getItem('demo-consent-shown')) {
    document.body.append(
      el(
        'div',
        { id: 'consent', role: 'dialog', 'aria-label': 'Cookie consent' },
        'This demo measures visits with Cairn. ',
        el('button', { id: 'accept' }, 'Accept'),
        ' ',
        el('button', { id: 'decline' }, 'Decline'),
      ),
    )
  }
  document.body.append(
    el(
      'footer',
      {},
      "A demo shop for Cairn's tracker. Spring sale link: ",
      el('a', { href: SPRING_SALE }, 'index.html?utm_source=newsletter&…'),
    ),
  )
}

document.addEventListener('DOMContentLoaded', () => {
  renderLayout()
  showCart()
  document
    .querySelectorAll('[data-add]')
    .forEach((button) => button.addEventListener('click', () => addToCart(button.dataset.add)))
  document.getElementById('accept')?.addEventListener('click', () => decide(true))
  document.getElementById('decline')?.addEventListener('click', () => decide(false))
})
