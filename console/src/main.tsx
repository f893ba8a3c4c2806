import { render } from 'preact'
import { App } from './app'
import { session } from './models/session'
import './styles.css'

void session.restore()
render(<App />, document.getElementById('app')!)
