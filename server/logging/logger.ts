import { pino, type Logger } from 'pino';

export type { Logger };

// Secrets never reach the log: headers that carry credentials are censored,
// and no request or response body is logged anywhere.
const redact = {
  paths: [
    'req.headers.authorization',
    'req.headers.cookie',
    'res.headers["set-cookie"]',
    '*.password',
    '*.client_secret',
    '*.token',
    '*.code',
  ],
  censor: '[redacted]',
};

export function createLogger(level: string): Logger {
  return pino({ level, redact, base: { service: 'enot-id' } });
}
