/** What the ops pages share: the role gate, their menu, and a workflow's link into the Temporal UI. */
import type { WebContext } from '../env';
import { need } from './common';

export const opsOnly = need('ops', 'admin');

const OPS_PAGES = [
  ['summary', '/ops'],
  ['rollout', '/ops/rollout'],
  ['deliveries', '/ops/deliveries'],
  ['unreachable', '/ops/unreachable'],
  ['roster', '/ops/roster'],
] as const;

/** The ops board's own menu, the current page marked. */
export function OpsNav(props: { c: WebContext; at: (typeof OPS_PAGES)[number][0] }) {
  const o = props.c.get('t').ops;
  return (
    <nav aria-label={o.menu} class="subnav">
      <ul>
        {OPS_PAGES.map(([key, href]) => (
          <li>
            <a href={href} aria-current={props.at === key ? 'page' : undefined}>
              {o.nav[key]}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

/** A workflow's link into the Temporal UI (opens in a new tab), or nothing when no UI address is configured. */
export function TemporalLink(props: { c: WebContext; href: string | undefined; workflowId: string }) {
  const o = props.c.get('t').ops;
  if (!props.href) return <span class="muted">{o.none}</span>;
  return (
    <a
      href={props.href}
      class="temporal"
      data-workflow-id={props.workflowId}
      target="_blank"
      rel="noopener"
      hx-boost="false"
      aria-label={o.inTemporal(props.workflowId)}
    >
      {o.temporalLink}
    </a>
  );
}
