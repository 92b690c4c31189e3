// The development default: every message becomes one JSON file under
// DATA_DIR/outbox/, so a developer can read codes without any mail or SMS account.
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Logger } from '../logging/logger.ts';
import { DeliveryFailed } from '../errors/index.ts';
import type { Delivery, OutgoingMessage } from './types.ts';

export function outboxDirectory(dataDir: string): string {
  return path.join(dataDir, 'outbox');
}

// ISO time sorts lexically; the random suffix keeps two messages in one millisecond apart.
function fileName(now: Date): string {
  return `${now.toISOString().replaceAll(':', '-')}-${randomBytes(4).toString('hex')}.json`;
}

export function createOutbox(dataDir: string, logger: Logger): Delivery {
  const directory = outboxDirectory(dataDir);
  return {
    async send(message: OutgoingMessage) {
      const now = new Date();
      const name = fileName(now);
      const file = path.join(directory, name);
      // Readers polling the folder must never see half a file: write aside, then rename.
      const temporary = path.join(directory, `.${name}.tmp`);
      const record = {
        to: message.to,
        channel: message.channel,
        subject: message.subject ?? null,
        text: message.text,
        html: message.html ?? null,
        created_at: now.toISOString(),
      };
      try {
        await mkdir(directory, { recursive: true });
        await writeFile(temporary, JSON.stringify(record, null, 2) + '\n', { mode: 0o600 });
        await rename(temporary, file);
      } catch (err) {
        await rm(temporary, { force: true }).catch(() => {});
        logger.warn({ err, channel: message.channel, transport: 'outbox' }, 'delivery failed');
        throw new DeliveryFailed();
      }
      // The outbox exists for development, so its log line deliberately shows the message.
      logger.info({ channel: message.channel, to: message.to, subject: message.subject, text: message.text, file }, 'dev outbox: message written');
    },
    async close() {},
  };
}
