/** Delivery metrics (issue 23): sent, delivered and failed per channel and kind, and decision → delivery time. */
import { Counter, Histogram } from 'prom-client';
import { metricsRegistry } from './metrics';

const registers = [metricsRegistry];

export const deliveriesTotal = new Counter({
  name: 'clinical_deliveries_total',
  help: 'Message deliveries by channel (email, sms, app, ops), kind and outcome (sent, delivered, failed)',
  labelNames: ['channel', 'kind', 'outcome'],
  registers,
});
export const decisionToDeliverySeconds = new Histogram({
  name: 'clinical_delivery_decision_seconds',
  help: 'From the process deciding to tell someone to the message handed over (sent) or in the inbox, by channel and kind',
  labelNames: ['channel', 'kind'],
  buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600, 43_200],
  registers,
});
