const items = cart().length ? cart() : ['boots']
const products = items.map((id) => PRODUCTS[id])
const revenue = products.reduce((sum, p) => sum + p.price, 0)
document.getElementById('items').innerHTML = products.map((p) => `<li>${p.name}</li>`).join('')
document.getElementById('total').textContent = `Total: €${revenue}`
cairn.track('Checkout Started', { revenue, currency: 'EUR' })

document.getElementById('purchase').addEventListener('click', () => {
  const orderId = 'order-' + Date.now()
  cairn.track('Order Completed', {
    order_id: orderId,
    revenue,
    currency: 'EUR',
    products: products.map((p) => ({ product_id: p.id, name: p.name, price: p.price })),
  })
  sessionStorage.removeItem('demo-cart')
  document.getElementById('order').textContent = orderId
  document.getElementById('thanks').hidden = false
})
