// LOG_FORMAT (issue 14 §5): JSON lines when stdout is not a terminal (auto, the
// default: files, pipes, collectors), readable lines with pretty; redaction either way.
import test from 'ava';
import { testEnvironment } from './helpers/environment.ts';
import { childEnv, NODE, ROOT, startServerProcess } from './helpers/process.ts';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

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

// A person at a terminal: util-linux's script(1) gives the server a pseudo-terminal as stdout.
const hasScript = existsSync('/usr/bin/script');
(hasScript ? test : test.skip)('LOG_FORMAT=auto with stdout a terminal: readable lines, no JSON, and a bearer token never shown', async (t) => {
  const environment = await testEnvironment({ LOG_FORMAT: 'auto' });
  t.teardown(() => environment.cleanup());
  // exec: the server replaces the shell, so it is script's own child and gets our SIGTERM.
  const command = `exec ${shellQuote(NODE)} server/main.ts`;
  const child = spawn('/usr/bin/script', ['-qefc', command, '/dev/null'], { cwd: ROOT, env: childEnv({ ...environment.env, LOG_LEVEL: 'info' }) });
  t.teardown(() => child.kill('SIGKILL'));
  let output = '';
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      output += d;
      if (output.includes('enot-id listening')) resolve();
    });
    void closed.then(() => reject(new Error(`exited early: ${output}`)));
  });
  await fetch(`${environment.env.ISSUER}/me`, { headers: { authorization: 'Bearer eyJ-not-a-real-token-but-secret' } });
  await new Promise((resolve) => setTimeout(resolve, 500));
  // A graceful stop, which also stops the embedded PostgreSQL (a killed server would leave it running).
  const server = Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/)[0]);
  t.true(server > 0, 'the server runs under script');
  process.kill(server, 'SIGTERM');
  await closed;
  const lines = output.split(/\r?\n/).filter(Boolean);
  t.regex(output, /INFO.*enot-id listening/, 'readable lines');
  t.is(lines.filter((line) => line.trimStart().startsWith('{')).length, 0, 'no JSON lines');
  t.regex(output, /request/, 'the request is logged');
  t.false(output.includes('not-a-real-token'), 'the token is not in the log');
});

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}
