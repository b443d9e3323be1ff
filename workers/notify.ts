/**
 * The delivery path's wiring for the clinical worker: transports from the config, the policy, and
 * the relay that turns outbox rows (notifications, lab_notifications) into delivery processes.
 */
import type { Client } from '@temporalio/client';
import { createMailSender, createSmsSender } from '../activities/notify-channels';
import type { NotifyDeps } from '../activities/notify';
import type { Db } from '../db';
import { DEFAULT_NOTIFY_POLICY, type NotifyPolicy } from '../domain/notify';
import type { Config } from '../platform/config';
import type { Logger } from '../platform/logger';
import { startDeliveryRelay, type DeliveryRelay } from './notify-relay';

/** The transports the delivery activities use, from the config (log-only e-mail and no SMS when nothing is set). */
export function notifyTransports(config: Config): Omit<NotifyDeps, 'db'> {
  return {
    mail: createMailSender({ smtpUrl: config.SMTP_URL, from: config.MAIL_FROM }),
    sms: config.SMS_GATEWAY_URL
      ? createSmsSender({
          kind: config.SMS_GATEWAY_KIND,
          url: config.SMS_GATEWAY_URL,
          apiKey: config.SMS_GATEWAY_KEY,
          sender: config.SMS_SENDER,
        })
      : null,
    publicBaseUrl: config.PUBLIC_BASE_URL ?? `http://${config.API_HOST}:${config.API_PORT}`,
  };
}

const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

export function notifyPolicy(config: Config): NotifyPolicy {
  const [from, to] = config.NOTIFY_QUIET_HOURS.split('-') as [string, string];
  return { ...DEFAULT_NOTIFY_POLICY, quietFromMinute: minutes(from), quietToMinute: minutes(to) };
}

/** Starts the relay when NOTIFY_RELAY is on; the worker closes it on shutdown. */
export async function startNotifyRelay(opts: { config: Config; db: Db; client: Client; logger: Logger }): Promise<DeliveryRelay | null> {
  if (opts.config.NOTIFY_RELAY !== 'on') return null;
  return startDeliveryRelay({
    db: opts.db,
    client: opts.client,
    taskQueue: opts.config.CLINICAL_TASK_QUEUE,
    databaseUrl: opts.config.DATABASE_URL!,
    policy: notifyPolicy(opts.config),
    logger: opts.logger,
  });
}
