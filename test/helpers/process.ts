// Runs the real entry points (server, CLI) as child processes on Node 24.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const NODE = process.execPath;

/** A minimal environment: nothing from the developer's shell leaks into the child. */
export function childEnv(env: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env };
}

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function run(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, args, { cwd: ROOT, env: childEnv(env) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Starts `server/main.ts` (after Node's own `nodeArgs`) and resolves once it logs that it is listening. */
export function startServerProcess(env: Record<string, string>, nodeArgs: string[] = []): Promise<{ child: ChildProcess; output: () => string; exited: Promise<Finished> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [...nodeArgs, 'server/main.ts'], { cwd: ROOT, env: childEnv({ ...env, LOG_LEVEL: 'info' }) });
    let stdout = '';
    let stderr = '';
    const exited = new Promise<Finished>((done) => child.on('close', (code, signal) => done({ code, signal, stdout, stderr })));
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d) => {
      stdout += d;
      if (stdout.includes('enot-id listening')) resolve({ child, output: () => stdout + stderr, exited });
    });
    exited.then((f) => reject(new Error(`server exited early (${f.code}): ${f.stderr || f.stdout}`)));
  });
}
