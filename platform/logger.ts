/**
 * Structured JSON logs. Callers log ids and statuses only: never names, birth dates or results.
 * The redact list is a safety net for fields that must never reach a log line.
 */
import pino from 'pino';

export type Logger = pino.Logger;

export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    name,
    level,
    base: { service: name },
    redact: {
      paths: ['*.fullName', '*.full_name', '*.birthDate', '*.birth_date', '*.value', '*.phone', 'req.headers.authorization'],
      censor: '[redacted]',
    },
  });
}
