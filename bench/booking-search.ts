/**
 * Slot search as patients run it: a week's free slots of one specialty anywhere in the city,
 * earliest first, over windows spread across the year (autocannon, one client, each request its
 * own window); p50/p95/p99 timed per request.
 */
import autocannon from 'autocannon';
import { percentile } from './stack';

const SPECIALTIES = ['general-practice', 'cardiology', 'endocrinology', 'neurology', 'ophthalmology'];
const dayAhead = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

export async function runSearches(opts: { apiUrl: string; token: string; count: number }) {
  const latencies: number[] = [];
  let sent = 0;
  let failures = 0;
  let started = 0;
  await autocannon({
    url: opts.apiUrl,
    connections: 1,
    amount: opts.count,
    requests: [
      {
        method: 'GET',
        setupRequest: (req) => {
          const i = sent++;
          started = performance.now();
          const from = 1 + ((i * 37) % 350);
          return {
            ...req,
            path: `/slots?from=${dayAhead(from)}&to=${dayAhead(from + 6)}&specialty=${SPECIALTIES[i % SPECIALTIES.length]}&limit=50`,
            headers: { authorization: `Bearer ${opts.token}` },
          };
        },
        onResponse: (status) => {
          latencies.push(performance.now() - started);
          if (status !== 200) failures++;
        },
      },
    ],
  });
  return {
    requests: latencies.length,
    failures,
    p50Ms: +percentile(latencies, 50).toFixed(1),
    p95Ms: +percentile(latencies, 95).toFixed(1),
    p99Ms: +percentile(latencies, 99).toFixed(1),
  };
}
