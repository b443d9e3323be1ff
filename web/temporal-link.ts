/**
 * Links from the pages to a process in the Temporal UI: `{TEMPORAL_UI_URL}/namespaces/{namespace}/workflows/{workflowId}`,
 * which the UI opens at the workflow's latest run. No address configured: no link.
 */
import type { Config } from '../platform/config';

export function temporalUiLink(config: Pick<Config, 'TEMPORAL_UI_URL' | 'TEMPORAL_NAMESPACE'>, workflowId: string): string | undefined {
  if (!config.TEMPORAL_UI_URL) return undefined;
  const base = config.TEMPORAL_UI_URL.replace(/\/+$/, '');
  return `${base}/namespaces/${encodeURIComponent(config.TEMPORAL_NAMESPACE)}/workflows/${encodeURIComponent(workflowId)}`;
}
