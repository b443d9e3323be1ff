/** What the ops pages share: the role gate, their menu, and a workflow's link into the Temporal UI. */
import type { WebContext } from '../env';
import { need } from './common';

export const opsOnly = need('ops', 'admin');

/** The ops board's own menu, the current page marked. */
export function OpsNav(props: { c: WebContext; at: 'summary' | 'rollout' }) {
  const o = props.c.get('t').ops;
  return (
    <nav aria-label={o.menu} class="subnav">
      <ul>
        <li>
          <a href="/ops" aria-current={props.at === 'summary' ? 'page' : undefined}>
            {o.nav.summary}
          </a>
        </li>
        <li>
          <a href="/ops/rollout" aria-current={props.at === 'rollout' ? 'page' : undefined}>
            {o.nav.rollout}
          </a>
        </li>
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
