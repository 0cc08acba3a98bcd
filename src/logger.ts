import pino, { Logger } from 'pino';

/**
 * Paths that may carry personal data (message text, names, phone numbers,
 * tokens). They are redacted in every log line. Add new paths here rather
 * than logging raw payloads.
 */
export const REDACT_PATHS = [
  'text', '*.text', '*.*.text',
  'name', '*.name', '*.*.name',
  'phone', '*.phone', '*.*.phone', 'wa_id', '*.wa_id', '*.*.wa_id',
  'email', '*.email',
  'password', '*.password', 'token', '*.token', 'accessToken', '*.accessToken',
  'authorization', '*.authorization', '*.headers.authorization', '*.headers.cookie', '*.headers["x-hub-signature-256"]',
  'body', '*.body', 'activity', '*.activity', 'attachments', '*.attachments',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'declic-bot' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: { err: pino.stdSerializers.err },
    },
    destination,
  );
}

/** Masks digits of an identifier that may be a phone number: keeps the last 2 digits. */
export function maskId(id: string | undefined): string {
  if (!id) return '';
  return id.replace(/\d(?=\d{2})/g, '•');
}
