import { JourneyFrame } from './journey'
import { JourneyList } from './list'
import './journeys.css'

/**
 * The Journeys screen's URLs: `/journeys` (the list, `?new=<template>` opens the "New journey"
 * form) and `/journeys/:id[/versions[/:a/diff/:b]|/edit?from=|/simulate?version=]`.
 */
export default function Screen({ path }: { path: string[] }) {
  const [id, ...rest] = path
  if (id === undefined) return <JourneyList />
  return <JourneyFrame key={id} id={id} rest={rest} />
}
