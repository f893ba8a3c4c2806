import { api } from './api'
import { downloads, outbound } from './config'

/**
 * Click listener for `data-outbound` (links to other hosts) and `data-downloads="pdf|zip|csv"`
 * (links to files with those extensions).
 */
export const onClick = (event: Event) => {
  const link = (event.target as Element).closest('a')
  const file = downloads && RegExp(`\\.(${downloads})$`, 'i').test(link?.pathname!)
  if (link && (file || (outbound != null && link.host != location.host)))
    api.track(file ? 'File Download' : 'Outbound Link', { url: link.href })
}
