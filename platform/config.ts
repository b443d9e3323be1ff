/**
 * The one place that reads the environment: validated once, frozen, fails fast.
 * In the embedded default (no production env) secrets are generated once into the
 * project-local data folder, so tokens and encrypted payloads stay readable between runs.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { CLINICAL_TASK_QUEUE } from '../domain/task-queues';
import { checkOidcSettings, OIDC_SETTINGS } from './oidc-config';

export const PROJECT_ROOT = path.resolve(__dirname, '..');

const port = z.coerce.number().int().min(1).max(65535);

const ConfigSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  /** Where the embedded Postgres, the Temporal SQLite file and generated secrets live. */
  DATA_DIR: z.string().default(path.join(PROJECT_ROOT, '.data')),
  /** External Postgres; unset means the embedded one. */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  /** External Temporal frontend (host:port); unset means the local dev server. */
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[^:\s]+:\d+$/, 'must be host:port')
    .optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_CLI_PATH: z.string().optional(),
  /** `npm start`'s local Temporal: the CLI's dev server, or `server`: the production temporal-server on the embedded Postgres. */
  TEMPORAL_MODE: z.enum(['dev', 'server']).default('dev'),
  /** The production server and its SQL tool (TEMPORAL_MODE=server); unset: built once into ~/.cache/clinical-engine/bin. */
  TEMPORAL_SERVER_PATH: z.string().optional(),
  TEMPORAL_SQL_TOOL_PATH: z.string().optional(),
  /** Task queue of the clinical worker (tests give a worker its own queue). */
  CLINICAL_TASK_QUEUE: z.string().min(1).default(CLINICAL_TASK_QUEUE),
  API_HOST: z.string().default('127.0.0.1'),
  API_PORT: port.default(3000),
  EMBEDDED_PG_PORT: port.default(5433),
  TEMPORAL_DEV_PORT: port.default(7233),
  TEMPORAL_UI_PORT: port.default(8233),
  /**
   * Where ops open a process in the Temporal UI (the pages link each appointment, referral, order and clinic to its
   * workflow there). `npm start` sets it to its dev server's UI; unset: the pages show no such links.
   */
  TEMPORAL_UI_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** HMAC secret that signs bearer tokens (at least 32 characters). */
  AUTH_SECRET: z.string().min(32).optional(),
  /**
   * HMAC key of the CDS request digests that join assessment keys (at least 32 characters); its
   * own secret, so rotating AUTH_SECRET does not change assessment ids.
   */
  CDS_DIGEST_SECRET: z.string().min(32).optional(),
  /** AES-256 key for the payload codec, base64 of 32 bytes, and its id. */
  PAYLOAD_KEY: z.string().optional(),
  PAYLOAD_KEY_ID: z.string().min(1).default('k1'),
  /** Keys rotated out, still needed to read older histories: `id:base64,id:base64`. */
  PAYLOAD_KEYS_RETIRED: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .filter(Boolean)
        .map((pair) => {
          const [id, key] = pair.split(':');
          return { id: id ?? '', key: key ?? '' };
        }),
    )
    .refine((keys) => keys.every((k) => k.id && Buffer.from(k.key, 'base64').length === 32), 'each entry must be id:base64-of-32-bytes'),
  /** Workers touch this file while they run, for container health checks. */
  WORKER_HEALTH_FILE: z.string().optional(),
  /**
   * Where the API finds the workers' health files (worker-clinical.health, worker-cds.health) for
   * /health; unset (workers in other containers) means /health does not report the workers.
   */
  WORKER_HEALTH_DIR: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Inference worker settings: how many activities run at once, and batching. */
  CDS_MAX_CONCURRENT: z.coerce.number().int().min(1).default(64),
  CDS_BATCH_SIZE: z.coerce.number().int().min(1).default(32),
  CDS_BATCH_WAIT_MS: z.coerce.number().min(0).default(2),
  /**
   * The cds worker's internal scoring endpoint (POST /score), which the CDS Hooks API calls
   * instead of starting a workflow per hook call; 0 = off (the API then uses the workflow path).
   */
  CDS_INFERENCE_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  /** Where the cds worker binds that endpoint. */
  CDS_INFERENCE_HOST: z.string().default('127.0.0.1'),
  /** Where the API finds it when not on this machine (e.g. http://worker-cds:7301); default http://127.0.0.1:CDS_INFERENCE_PORT. */
  CDS_INFERENCE_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** Shared secret (at least 32 characters) the API sends to the scoring endpoint in a header. */
  CDS_INFERENCE_SECRET: z.string().min(32).optional(),
  /** Requests the scoring endpoint holds at once; beyond it answers 503 and the API falls back to the workflow path. */
  CDS_INFERENCE_MAX_PENDING: z.coerce.number().int().min(1).default(256),
  /**
   * 'on': the cds worker loads the diagnosis-suggestions model, CDS Hooks discovery lists its service
   * and POST /diagnosis-suggestions answers. Off by default: the training data's licence is in
   * question (Apache-2.0 vs CC BY-NC 4.0) and the model is not a registered medical device
   * (models/diagnosis-suggestions.card.md). The embedded demo start turns it on.
   */
  CDS_DIAGNOSIS_SUGGESTIONS: z.enum(['on', 'off']).default('off'),
  /** 'on' (the embedded demo start sets it): the clinical worker starts the demo city's lab orders. */
  DEMO_LAB_ORDERS: z.enum(['on', 'off']).default('off'),
  /** 'on' (the embedded demo start sets it): the pages' sign-in lists the demo users and signs in as one of them. Never in production. */
  WEB_DEMO_SIGN_IN: z.enum(['on', 'off']).default('off'),
  /** How long a page session lasts after sign-in, in hours. */
  WEB_SESSION_HOURS: z.coerce
    .number()
    .min(0.01)
    .max(24 * 7)
    .default(12),
  /** Browser origins allowed to call the API cross-origin (CORS: the Temporal UI for /codec, apps), comma-separated; default none. */
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((o) => o.trim().replace(/\/$/, ''))
        .filter(Boolean),
    )
    .refine((list) => list.every((o) => /^https?:\/\/[^/\s]+$/.test(o)), 'each origin must be scheme://host[:port]'),
  /**
   * Local default of the embedded start only: /codec/decode answers token-less requests from a
   * loopback address with an allowed Origin, while the API itself listens on loopback. Never in production.
   */
  CODEC_LOOPBACK_OPEN: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /** The clinical worker drains the process outbox (workers/outbox-relay.ts); off for a worker replica that should not. */
  OUTBOX_RELAY: z.enum(['on', 'off']).default('on'),
  /** Outbox rows claimed per batch (marked done together); a relay keeps two batches in hand. */
  OUTBOX_BATCH: z.coerce.number().int().min(1).max(5000).default(100),
  /** Starts and signals in flight at once from one relay (both its batches). */
  OUTBOX_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(32),
  /** The backstop poll when no NOTIFY arrives (ms). */
  OUTBOX_POLL_MS: z.coerce.number().int().min(10).default(1000),
  /** Process starts per second from one relay at most (0 = no cap): a peak is answered first and the processes follow. */
  OUTBOX_STARTS_PER_SECOND: z.coerce.number().min(0).default(0),
  /** HL7 v2 over MLLP (TCP) for lab systems, served by the API process; 0 = off. */
  MLLP_PORT: z.coerce.number().int().min(0).max(65535).default(2575),
  /**
   * The lab senders MLLP takes results from: `FACILITY=clinic-uuid` pairs, comma-separated, where
   * FACILITY is MSH-4's first component and the clinic is the lab whose orders it may post to.
   */
  MLLP_SENDERS: z
    .string()
    .default('')
    .transform((v) =>
      Object.fromEntries(
        v
          .split(',')
          .map((p) => p.trim())
          .filter(Boolean)
          .map((p) => [
            p.slice(0, p.lastIndexOf('=')).trim(),
            p
              .slice(p.lastIndexOf('=') + 1)
              .trim()
              .toLowerCase(),
          ]),
      ),
    )
    .refine(
      (m) => Object.entries(m).every(([f, c]) => f.length > 0 && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(c)),
      'each entry must be FACILITY=clinic-uuid',
    ),
  /**
   * Peer addresses allowed to connect to MLLP, comma-separated: `loopback` (default), a list of
   * addresses, or `*` for any (then the network in front must restrict who reaches the port).
   */
  MLLP_PEERS: z
    .string()
    .default('loopback')
    .transform((v) =>
      v
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean),
    ),
  /** Port of a worker's own /metrics (its metrics plus the Temporal SDK's); 0 = off. */
  WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  WORKER_METRICS_HOST: z.string().default('127.0.0.1'),
  ...OIDC_SETTINGS,
  /** A scraper's bearer token for /metrics (at least 32 characters); unset, only ops/admin tokens read the API's metrics. */
  METRICS_TOKEN: z.string().min(32).optional(),
  /** Messages (docs/notifications.md): the SMTP server, e.g. smtp://user:pass@host:587; unset = log-only (nothing leaves the machine). */
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'must be smtp:// or smtps://')
    .optional(),
  MAIL_FROM: z.string().min(3).default('Городские поликлиники <no-reply@clinic.local>'),
  /** The SMS gateway's send URL (https://sms.ru/sms/send, https://smsc.ru/sys/send.php) and key; unset = no SMS channel. */
  SMS_GATEWAY_URL: z.url({ protocol: /^https?$/ }).optional(),
  SMS_GATEWAY_KEY: z.string().default(''),
  /** Which gateway protocol SMS_GATEWAY_URL speaks (domain/sms-gateways.ts): SMS.ru (default) or SMSC.ru. */
  SMS_GATEWAY_KIND: z.enum(['smsru', 'smsc']).default('smsru'),
  /** The sender name the gateway has registered for us (optional). */
  SMS_SENDER: z.string().optional(),
  /** Shared secret the gateway's delivery reports carry (`?token=`) on POST /notifications/sms-status (at least 16 characters). */
  SMS_CALLBACK_TOKEN: z.string().min(16).optional(),
  /** Where links in messages point (the web app's public origin); default http://API_HOST:API_PORT. */
  PUBLIC_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** Quiet hours in the recipient's clinic zone, HH:MM-HH:MM. */
  NOTIFY_QUIET_HOURS: z
    .string()
    .regex(/^\d{2}:\d{2}-\d{2}:\d{2}$/, 'must be HH:MM-HH:MM')
    .default('21:00-09:00'),
  /** 'on': the clinical worker runs the delivery relay (outbox rows → delivery processes). */
  NOTIFY_RELAY: z.enum(['on', 'off']).default('on'),
});

/** Every variable the code reads: docker-compose.yml may set these and no others. */
export const CONFIG_KEYS = Object.keys(ConfigSchema.shape);

type SecretKey = 'AUTH_SECRET' | 'PAYLOAD_KEY' | 'CDS_DIGEST_SECRET' | 'CDS_INFERENCE_SECRET';

export type Config = Readonly<Omit<z.infer<typeof ConfigSchema>, SecretKey> & Record<SecretKey, string>>;

type Secrets = Record<SecretKey, string>;

const generate: Record<SecretKey, () => string> = {
  AUTH_SECRET: () => randomBytes(32).toString('base64url'),
  PAYLOAD_KEY: () => randomBytes(32).toString('base64'),
  CDS_DIGEST_SECRET: () => randomBytes(32).toString('base64url'),
  CDS_INFERENCE_SECRET: () => randomBytes(32).toString('base64url'),
};

/**
 * Reads secrets from DATA_DIR/secrets.json, creating them on first use (never in production) and
 * adding any an older file lacks. Written whole to a temp file first, so a process starting at the
 * same moment never reads half a file; the first writer of a new file wins.
 */
function localSecrets(dataDir: string): Secrets {
  const file = path.join(dataDir, 'secrets.json');
  mkdirSync(dataDir, { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  let stored: Partial<Secrets> | undefined;
  try {
    stored = JSON.parse(readFileSync(file, 'utf8')) as Partial<Secrets>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const missing = (Object.keys(generate) as SecretKey[]).filter((k) => !stored?.[k]);
  if (!missing.length) return stored as Secrets;
  const secrets = { ...stored } as Secrets;
  for (const key of missing) secrets[key] = generate[key]();
  writeFileSync(temp, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  try {
    if (stored) {
      renameSync(temp, file);
    } else {
      linkSync(temp, file);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return localSecrets(dataDir);
  } finally {
    rmSync(temp, { force: true });
  }
  return secrets;
}

export function parseConfig(env: NodeJS.ProcessEnv): Config {
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid configuration: ${problems}`);
  }
  const c = parsed.data;
  let { AUTH_SECRET, PAYLOAD_KEY, CDS_DIGEST_SECRET, CDS_INFERENCE_SECRET } = c;
  // In production the scoring endpoint's secret is needed only where the endpoint is used.
  const inferenceUsed = c.CDS_INFERENCE_PORT > 0 || Boolean(c.CDS_INFERENCE_URL);
  if (!AUTH_SECRET || !PAYLOAD_KEY || !CDS_DIGEST_SECRET || !CDS_INFERENCE_SECRET) {
    if (c.NODE_ENV === 'production') {
      // With an OpenID Connect issuer and no HS256, nothing checks AUTH_SECRET: an unguessable one stands in.
      if (!AUTH_SECRET && c.OIDC_ISSUER && c.AUTH_ALLOW_HS256 !== 'true') AUTH_SECRET = generate.AUTH_SECRET();
      if (!AUTH_SECRET || !PAYLOAD_KEY) throw new Error('Invalid configuration: AUTH_SECRET and PAYLOAD_KEY are required in production');
      if (!CDS_DIGEST_SECRET) throw new Error('Invalid configuration: CDS_DIGEST_SECRET is required in production');
      if (inferenceUsed)
        throw new Error(
          'Invalid configuration: CDS_INFERENCE_SECRET is required in production when CDS_INFERENCE_PORT or CDS_INFERENCE_URL is set',
        );
    } else {
      const local = localSecrets(c.DATA_DIR);
      AUTH_SECRET ??= local.AUTH_SECRET;
      PAYLOAD_KEY ??= local.PAYLOAD_KEY;
      CDS_DIGEST_SECRET ??= local.CDS_DIGEST_SECRET;
      CDS_INFERENCE_SECRET ??= local.CDS_INFERENCE_SECRET;
    }
  }
  if (c.CODEC_LOOPBACK_OPEN && (c.NODE_ENV === 'production' || !isLoopbackHost(c.API_HOST))) {
    throw new Error('Invalid configuration: CODEC_LOOPBACK_OPEN is only for an API on a loopback API_HOST, never in production');
  }
  checkOidcSettings(c);
  if (Buffer.from(PAYLOAD_KEY, 'base64').length !== 32) {
    throw new Error('Invalid configuration: PAYLOAD_KEY must be base64 of exactly 32 bytes');
  }
  return Object.freeze({ ...c, AUTH_SECRET, PAYLOAD_KEY, CDS_DIGEST_SECRET, CDS_INFERENCE_SECRET: CDS_INFERENCE_SECRET ?? '' });
}

/** True for 127.0.0.0/8, ::1 (also IPv4-mapped) and `localhost`. */
export function isLoopbackHost(host: string | undefined): boolean {
  if (!host) return false;
  const h = host
    .replace(/^\[|\]$/g, '')
    .replace(/^::ffff:/i, '')
    .toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

let cached: Config | undefined;

/** The process's configuration, read from the environment on first use. */
export function loadConfig(): Config {
  cached ??= parseConfig(process.env);
  return cached;
}

/** Database URL of the embedded Postgres (user and password are local-only). */
export function embeddedDatabaseUrl(port: number): string {
  return `postgres://clinical:clinical@127.0.0.1:${port}/clinical`;
}

/** The database URL, which every process that touches Postgres needs. */
export function requireDatabaseUrl(config: Config): string {
  if (!config.DATABASE_URL) throw new Error('DATABASE_URL is not set (npm start sets it for the embedded Postgres)');
  return config.DATABASE_URL;
}
