// LOG_FORMAT (issue 14 §5): JSON lines when stdout is not a terminal (auto, the
// default: files, pipes, collectors), readable lines with pretty; redaction either way.
import test from 'ava';
import { testEnvironment } from './helpers/environment.ts';
import { startServerProcess } from './helpers/process.ts';

for (const format of ['auto', 'pretty'] as const) {
  test(`LOG_FORMAT=${format} with stdout a pipe: ${format === 'auto' ? 'one JSON object per line' : 'readable lines'}, and a bearer token never shown`, async (t) => {
    const environment = await testEnvironment({ LOG_FORMAT: format });
    t.teardown(() => environment.cleanup());
    const server = await startServerProcess(environment.env);
    t.teardown(() => server.child.kill('SIGKILL'));
    const secret = 'Bearer eyJ-not-a-real-token-but-secret';
    await fetch(`${environment.env.ISSUER}/me`, { headers: { authorization: secret } });
    server.child.kill('SIGTERM');
    const finished = await server.exited;
    t.is(finished.code, 0);
    const lines = finished.stdout.split('\n').filter(Boolean);
    t.true(lines.some((line) => line.includes('enot-id listening')));
    const json = lines.filter((line) => line.startsWith('{'));
    if (format === 'auto') {
      t.is(json.length, lines.length, 'every line is JSON');
      for (const line of lines) t.notThrows(() => JSON.parse(line));
    } else {
      t.is(json.length, 0, 'no JSON lines');
      t.regex(finished.stdout, /INFO.*enot-id listening/);
    }
    t.false(finished.stdout.includes('not-a-real-token'), 'the token is not in the log');
  });
}
