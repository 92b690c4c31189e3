// Child processes of the benchmark: the Enot ID server (server/main.ts), the
// reference servers and one-shot scripts, all on this same Node binary.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { postmasterOf } from '../../server/db/embedded-postgres.ts';
import { statFields } from './cpu.ts';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const NODE = process.execPath;

/** Nothing from the developer's shell leaks into a child, except what Node and the thread pool need. */
function childEnv(env: Record<string, string>): Record<string, string> {
  const keep: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' };
  if (process.env.UV_THREADPOOL_SIZE) keep.UV_THREADPOOL_SIZE = process.env.UV_THREADPOOL_SIZE;
  return { ...keep, ...env };
}

// The tests' own free-port probe (the benchmark already shares test/helpers/smtp.ts).
export { freePort } from '../../test/helpers/environment.ts';

/** A "Field:   N kB" line of a /proc file, in MiB; undefined when the process is gone. */
function procMb(file: string, field: string): number | undefined {
  try {
    const kb = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(readFileSync(file, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

/** Resident set size of a process, MiB, from /proc/<pid>/status (VmRSS). */
export const rssMb = (pid: number) => procMb(`/proc/${pid}/status`, 'VmRSS');

/** Proportional set size of a process, MiB (/proc/<pid>/smaps_rollup): pages shared by several processes are divided among them. */
export const pssMb = (pid: number) => procMb(`/proc/${pid}/smaps_rollup`, 'Pss');

/** The embedded PostgreSQL of a DATA_DIR: its postmaster (DATA_DIR/postgres/postmaster.pid) and the postmaster's children. */
export function embeddedDatabasePids(dataDir: string): number[] {
  const postmaster = postmasterOf(path.join(dataDir, 'postgres'))?.pid;
  if (postmaster === undefined) return [];
  const children = readdirSync('/proc').filter((name) => /^\d+$/.test(name)).filter((pid) => Number(statFields(`/proc/${pid}/stat`)?.[1]) === postmaster);
  return [postmaster, ...children.map(Number)];
}

/**
 * Memory of Enot ID as a whole, MiB of PSS: the server process and, in embedded mode,
 * every process of its PostgreSQL (issue 15: "all processes of the embedded mode
 * together, counted as PSS", so shared buffers count once, not once per backend).
 */
export function enotPssMb(serverPid: number, dataDir?: string): { mb: number; processes: number } {
  const pids = [serverPid, ...(dataDir ? embeddedDatabasePids(dataDir) : [])];
  return { mb: pids.reduce((sum, pid) => sum + (pssMb(pid) ?? 0), 0), processes: pids.length };
}

/** Calls `measure` every 200 ms; `stop()` returns the highest value seen. */
export function peakSampler(measure: () => number) {
  let max = measure();
  const timer = setInterval(() => {
    max = Math.max(max, measure());
  }, 200);
  return {
    stop(): number {
      clearInterval(timer);
      max = Math.max(max, measure());
      return max;
    },
  };
}

/** Samples a process's RSS every 200 ms; `stop()` returns the highest seen. */
export function rssSampler(pid: number) {
  let max = rssMb(pid) ?? 0;
  const timer = setInterval(() => {
    max = Math.max(max, rssMb(pid) ?? 0);
  }, 200);
  return {
    stop(): number {
      clearInterval(timer);
      max = Math.max(max, rssMb(pid) ?? 0);
      return max;
    },
  };
}

export interface Running {
  child: ChildProcess;
  pid: number;
  url: string;
  /** Wall time from spawn to ready, ms. */
  startMs: number;
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
}

export function stopper(child: ChildProcess, exited: Promise<number | null>) {
  return async (graceMs = 20_000) => {
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
}

export function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

/**
 * The Node flags of `npm start` (package.json: `node <flags> server/main.ts`), so
 * the benchmark runs the server exactly as it is started in production.
 */
export const START_FLAGS: string[] = (() => {
  const scripts = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const words = scripts.start!.trim().split(/\s+/);
  if (words[0] !== 'node' || words.at(-1) !== 'server/main.ts') throw new Error(`npm start is not "node [flags] server/main.ts": ${scripts.start}`);
  return words.slice(1, -1);
})();

/**
 * Starts `node server/main.ts` with its output appended to `logFile` (a file,
 * not a pipe: a slow reader must never stall the server's synchronous logger),
 * and waits for its "enot-id listening" line.
 */
export async function startEnot(
  env: Record<string, string>,
  options: { logFile: string; nodeArgs?: string[]; timeoutMs?: number },
): Promise<Running & { reportedStartupMs?: number }> {
  // Earlier starts wrote to the same file: read only what this start writes.
  const fd = openSync(options.logFile, 'a');
  let offset = statSync(options.logFile).size;
  const began = performance.now();
  const child = spawn(NODE, [...START_FLAGS, ...(options.nodeArgs ?? []), 'server/main.ts'], { cwd: ROOT, env: childEnv(env), stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const exited = exitOf(child);
  const url = `http://127.0.0.1:${env.PORT}`;
  const reader = openSync(options.logFile, 'r');
  const buffer = Buffer.alloc(65_536);
  let text = '';
  const timeoutMs = options.timeoutMs ?? 60_000;
  try {
    for (;;) {
      const read = readSync(reader, buffer, 0, buffer.length, offset);
      if (read > 0) {
        offset += read;
        text += buffer.subarray(0, read).toString('utf8');
        const line = text.split('\n').find((l) => l.includes('"enot-id listening"'));
        if (line) {
          const startMs = performance.now() - began;
          let reportedStartupMs: number | undefined;
          try {
            reportedStartupMs = (JSON.parse(line) as { startupMs?: number }).startupMs;
          } catch {}
          return { child, pid: child.pid!, url, startMs, reportedStartupMs, exited, stop: stopper(child, exited) };
        }
        continue;
      }
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`enot-id exited before listening (${child.exitCode ?? child.signalCode}): ${text.slice(-2000)}`);
      }
      if (performance.now() - began > timeoutMs) {
        child.kill('SIGKILL');
        throw new Error(`enot-id did not start within ${timeoutMs} ms: ${text.slice(-2000)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  } finally {
    closeSync(reader);
  }
}

/** Starts a reference server script that prints one JSON line `{"url": ...}` when it listens. */
export async function startReference(script: string, env: Record<string, string>, nodeArgs: string[] = []): Promise<Running> {
  const began = performance.now();
  const child = spawn(NODE, [...nodeArgs, script], { cwd: ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = exitOf(child);
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    if (stderr.length < 10_000) stderr += d;
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d;
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve((JSON.parse(line) as { url: string }).url);
    });
    void exited.then((code) => reject(new Error(`${script} exited (${code}) before listening: ${stderr || stdout}`)));
  });
  // Later output is not read: drain it so the pipe never fills.
  child.stdout!.resume();
  return { child, pid: child.pid!, url, startMs: performance.now() - began, exited, stop: stopper(child, exited) };
}

const scripts = new Set<ChildProcess>();

/** Kills the scripts still running (on Ctrl-C: a seeding script must not write on while its keys are being removed). */
export function killScripts(): void {
  for (const child of scripts) child.kill('SIGKILL');
}

/** Runs a script to completion and parses the JSON it prints last. */
export async function runScript<T>(script: string, args: string[], env: Record<string, string>, timeoutMs = 300_000): Promise<T> {
  const child = spawn(NODE, [script, ...args], { cwd: ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  scripts.add(child);
  void exitOf(child).then(() => scripts.delete(child));
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d));
  child.stderr!.on('data', (d: Buffer) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await exitOf(child);
  clearTimeout(timer);
  if (code !== 0) throw new Error(`${script} failed (${code}): ${stderr.slice(-2000) || stdout.slice(-2000)}`);
  const last = stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(last) as T;
}
