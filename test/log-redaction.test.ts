// "Secrets, codes, passwords and tokens never reach logs (URL paths included)":
// the access log of a real server, captured from its pino destination.
import test from 'ava';
import { loadConfig } from '../server/config/index.ts';
import { createLogger } from '../server/logging/logger.ts';
import { startServer } from '../server/server.ts';
import { testEnvironment } from './helpers/environment.ts';

test('QR tokens in /qr/:token paths are redacted in the access log', async (t) => {
  const environment = await testEnvironment({ LOG_LEVEL: 'info' });
  const lines: string[] = [];
  const logger = createLogger('info', { destination: { write: (line: string) => void lines.push(line) } });
  const server = await startServer(loadConfig(environment.env), logger);
  t.teardown(async () => {
    await server.close();
    await environment.cleanup();
  });

  const token = 'Qr7secretTokenAbCdEf_-';
  const requests: Array<[string, string, string]> = [
    ['GET', `/qr/${token}`, '/qr/[redacted]'],
    ['POST', `/qr/${token}/approve`, '/qr/[redacted]/approve'],
    ['POST', `/qr/${token}/deny`, '/qr/[redacted]/deny'],
    // The router matches paths case-insensitively; so does the redaction.
    ['GET', `/QR/${token}`, '/QR/[redacted]'],
    ['GET', `//qr/${token}`, '//qr/[redacted]'],
  ];
  for (const [method, path] of requests) {
    await fetch(`${server.url}${path}`, { method, headers: { accept: 'text/html' }, redirect: 'manual', ...(method === 'POST' ? { body: 'csrf=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } } : {}) });
  }
  // Other paths keep what they say: interaction uids are no secrets.
  await fetch(`${server.url}/interaction/some-uid`, { headers: { accept: 'text/html' } });

  const logged = lines.map((line) => JSON.parse(line) as { msg: string; path?: string }).filter((entry) => entry.msg === 'request');
  t.false(lines.join('\n').includes(token), 'the token appears nowhere in the log');
  t.deepEqual(logged.map((entry) => entry.path), [...requests.map(([, , expected]) => expected), '/interaction/some-uid']);
});
