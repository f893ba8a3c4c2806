import type { JSX } from 'preact'
import { useEffect } from 'preact/hooks'
import { homeOf, may, SCREENS, type Area } from './models/access'
import { href, navigate, route } from './models/router'
import { session } from './models/session'
import { AttributionScreen } from './views/attribution'
import { Empty, Link, Loading, PageHeader } from './views/common'
import { lazyScreen } from './views/lazy'
import { ComplianceScreen } from './views/compliance'
import { CONTACT_TABS, ContactScreen, type ContactTab } from './views/contact'
import { ContactsScreen } from './views/contacts'
import { LoginScreen } from './views/login'
import { MessageScreen, MessagesScreen, MessagingSettingsPage } from './views/messages'
import { OverviewScreen } from './views/overview'
import { SettingsScreen, settingsSections } from './views/settings'

// The automation screens load on first use (the journey builder brings a graph library).
const SegmentsScreen = lazyScreen('segments', () => import('./views/segments/screen'))
const JourneysScreen = lazyScreen('journeys', () => import('./views/journeys/screen'))
const TemplatesScreen = lazyScreen('templates', () => import('./views/templates/screen'))
const PredictionsScreen = lazyScreen('predictions', () => import('./views/predictions/screen'))
const KpisScreen = lazyScreen('KPIs', () => import('./views/kpis/screen'))

export function App() {
  const status = session.status.value
  const path = route.path.value
  const onLogin = path === '/login'

  useEffect(() => {
    if (status === 'anonymous' && !onLogin) {
      navigate(href('/login', { next: path === '/' ? undefined : path + location.search }), {
        replace: true,
      })
    }
    if (status === 'authenticated' && (onLogin || path === '/')) {
      const next = onLogin ? route.query.peek().get('next') : undefined
      const safe = next && next.startsWith('/') && !next.startsWith('//') ? next : undefined
      navigate(safe ?? homeOf(session.role.peek()!), { replace: true })
    }
  }, [status, path])

  if (status === 'checking') return <Loading label="Opening the console…" />
  if (status === 'anonymous') return <LoginScreen />
  if (onLogin || path === '/') return <Loading />
  return <Shell />
}

function Shell() {
  const user = session.user.value!
  const first = route.segments.value[0]
  return (
    <div class="shell">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <aside class="sidebar">
        <div class="brand">Cairn</div>
        <nav aria-label="Main">
          <ul>
            {SCREENS.filter((s) => may(user.role, s.area)).map((s) => (
              <li key={s.path}>
                <Link
                  href={s.path}
                  class={first === s.path.slice(1) ? 'active' : ''}
                  aria-current={first === s.path.slice(1) ? 'page' : undefined}
                >
                  {s.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          <div class="who-name" title={user.name}>
            {user.name}
          </div>
          <div class="muted small" data-role>
            {user.role}
          </div>
          <button type="button" class="link-button" onClick={() => void session.logout()}>
            Log out
          </button>
        </div>
      </aside>
      <main id="main" class="content">
        <Screen />
      </main>
    </div>
  )
}

function Screen() {
  const [first, second, third] = route.segments.value
  const rest = route.segments.value.slice(1)
  const role = session.role.value
  const guard = (area: Area, screen: () => JSX.Element) =>
    may(role, area) ? screen() : <Forbidden area={area} />

  switch (first) {
    case 'overview':
      return guard('overview', () => <OverviewScreen />)
    case 'contacts': {
      if (!second) return guard('contacts', () => <ContactsScreen />)
      const tab = (CONTACT_TABS.find((t) => t.id === third)?.id ?? 'timeline') as ContactTab
      return guard('contacts', () => <ContactScreen key={second} id={second} tab={tab} />)
    }
    case 'messages':
      return guard('messages', () =>
        second === 'settings' ? (
          <MessagingSettingsPage />
        ) : second ? (
          <MessageScreen key={second} id={second} />
        ) : (
          <MessagesScreen />
        ),
      )
    case 'attribution':
      return guard('attribution', () => <AttributionScreen />)
    case 'kpis':
      return guard('kpis', () => <KpisScreen path={rest} />)
    case 'segments':
      return guard('segments', () => <SegmentsScreen path={rest} />)
    case 'journeys':
      return guard('journeys', () => <JourneysScreen path={rest} />)
    case 'templates':
      return guard('templates', () => <TemplatesScreen path={rest} />)
    case 'predictions':
      return guard('predictions', () => <PredictionsScreen path={rest} />)
    case 'compliance':
      return guard('compliance', () => (
        <ComplianceScreen section={second ?? 'erasures'} id={third} />
      ))
    case 'settings':
      return settingsSections(role).length ? (
        <SettingsScreen section={second} />
      ) : (
        <Forbidden area="settings" />
      )
    default:
      return <NotFound />
  }
}

function Forbidden({ area }: { area: Area }) {
  const role = session.role.value!
  return (
    <>
      <PageHeader title="Not available for your role" />
      <Empty>
        <p data-forbidden={area}>
          The <strong>{role}</strong> role cannot use the{' '}
          {area === 'compliance' ? 'compliance center' : area}. Ask an admin for a key with the
          right role.
        </p>
        <Link href={homeOf(role)}>Go to {homeOf(role).slice(1)}</Link>
      </Empty>
    </>
  )
}

function NotFound() {
  return (
    <>
      <PageHeader title="Page not found" />
      <Empty>
        <p>
          Nothing lives at <code>{route.path.value}</code>.
        </p>
        <Link href={homeOf(session.role.value!)}>Go to the start page</Link>
      </Empty>
    </>
  )
}
