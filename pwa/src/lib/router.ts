/**
 * Hash routes (`#/households/…`): the service worker serves one `index.html` for every start, and
 * a hash never reaches the server, so a deep link works offline without a navigation fallback.
 */
import { readable } from 'svelte/store';

export interface Route {
  name: string;
  params: Record<string, string>;
}

const patterns: [string, RegExp][] = [
  ['households', /^\/households\/?$/],
  ['household', /^\/households\/([^/]+)\/?$/],
  ['visit', /^\/households\/([^/]+)\/visit\/?$/],
  ['communication', /^\/communication\/?$/],
  ['difficulty', /^\/difficulty\/?$/],
  ['my-difficulties', /^\/my-difficulties\/?$/],
  ['team-activity', /^\/team-activity\/?$/],
  ['outbox', /^\/outbox\/?$/],
  ['guides', /^\/guides\/?$/],
  ['guide', /^\/guides\/([^/]+)\/?$/],
  ['settings', /^\/settings\/?$/],
  ['login', /^\/login\/?$/],
  ['dashboard', /^\/dashboard\/?$/],
  ['reports', /^\/reports\/?$/],
  ['plans', /^\/plans\/?$/],
  ['materials', /^\/materials\/?$/],
  ['conflicts', /^\/conflicts\/?$/],
  ['funding', /^\/funding\/?$/],
  ['teams', /^\/teams\/?$/],
  ['trainings', /^\/trainings\/?$/],
  ['difficulties', /^\/difficulties\/?$/],
  ['awards', /^\/awards\/?$/],
  ['campaigns', /^\/campaigns\/?$/],
  ['admin', /^\/admin\/?$/],
  ['missing', /^\/indicators\/([^/]+)\/missing\/?$/],
];

export function parse(hash: string): Route {
  const [path, query = ''] = hash.replace(/^#/, '').split('?');
  const params: Record<string, string> = Object.fromEntries(new URLSearchParams(query));
  for (const [name, re] of patterns) {
    const m = re.exec(path || '/');
    if (m) {
      if (m[1]) params.id = decodeURIComponent(m[1]);
      return { name, params };
    }
  }
  return { name: 'home', params };
}

export const route = readable<Route>(parse(typeof location === 'undefined' ? '' : location.hash), (set) => {
  const on = () => set(parse(location.hash));
  window.addEventListener('hashchange', on);
  return () => window.removeEventListener('hashchange', on);
});

export function go(path: string): void {
  location.hash = `#${path}`;
}
