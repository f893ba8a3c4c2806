document.getElementById('signup').addEventListener('submit', (event) => {
  event.preventDefault()
  const form = new FormData(event.target)
  const email = form.get('email')
  // The shop's own user id; here derived from the email so the demo needs no backend.
  const userId = 'user-' + email.replace(/[^a-z0-9]/gi, '-')
  cairn.identify(userId, { email, name: form.get('name') })
  cairn.track('Signed Up', { method: 'email' })
  location.href = 'checkout.html'
})
