import { render } from 'preact'

function App() {
  return (
    <main>
      <h1>Cairn</h1>
      <p>The console arrives with issue #6. The API is at /api (see /api/openapi.json).</p>
    </main>
  )
}

render(<App />, document.getElementById('app')!)
