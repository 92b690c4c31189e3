// Readable log lines for a person at a terminal (LOG_FORMAT=auto with a TTY, or
// pretty): pino-pretty as a stream in this thread, so a line is written before the
// process exits. Loaded only then: JSON stays the format for files, pipes and
// collectors, and the redaction (./logger.ts) applies before either.
import { build } from 'pino-pretty';
import type { DestinationStream } from 'pino';

export function prettyDestination(): DestinationStream {
  return build({ colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' });
}

