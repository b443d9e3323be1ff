/** What the lab bench and the doctor's tablet share: error texts from both catalogues, uuid checks, the lab's menu. */
import { ApiError, type ErrorCode } from '../../api/errors';
import type { Catalogue } from '../i18n';
import { errorText } from '../i18n';
import type { WebContext } from '../env';

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The visitor-facing text of an API error code: the lab's and doctor's own texts first, then the frame's. */
export function staffErrorText(t: Catalogue, code: string): string {
  return t.lab.errors[code] ?? t.doctor2.errors[code] ?? errorText(t, code);
}

/** The path's id, or the API's 404 for it. */
export function idParam(c: WebContext, name: string, code: ErrorCode): string {
  const id = c.req.param(name) ?? '';
  if (!UUID.test(id)) throw new ApiError(404, code, 'No such resource.');
  return id;
}

/** The lab's menu, on every lab page (the current page marked for screen readers). */
export function LabMenu(props: { c: WebContext }) {
  const t = props.c.get('t');
  const here = props.c.req.path;
  const items: Array<[string, string]> = [
    ['/lab', t.lab.menu.worklist],
    ['/lab/critical', t.lab.menu.critical],
    ['/lab/messages', t.lab.menu.upload],
    ['/lab/unmatched', t.lab.menu.unmatched],
  ];
  return (
    <nav aria-label={t.lab.menu.worklist} class="subnav">
      <ul>
        {items.map(([href, label]) => (
          <li>
            <a href={href} aria-current={here === href ? 'page' : undefined}>
              {label}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}
