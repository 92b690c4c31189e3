// CPU time spent per unit of work (a request, a whole sign-in), read from /proc.
// On a shared 2-vCPU machine a throughput ratio moves with whatever else runs; the
// CPU time a process spends per request moves much less (issue 15, item 5: "report
// instruction counts where wall-clock time is too noisy"; this VM exposes no
// hardware counters to perf, so CPU time is the count we have). When a server is
// CPU-bound, the ratio of two CPU costs is the ratio of their throughputs on a
// machine with nothing else running.
import { readFileSync } from 'node:fs';

/** Linux reports CPU time in clock ticks of USER_HZ, which is 100 on every architecture Node runs on. */
const TICK_MS = 10;

export interface CpuSample {
  /** The process's main thread (the event loop). */
  mainMs: number;
  /** Every other thread of the process, living or exited (libuv's pool: Argon2id, ES256 signatures; V8's GC and compiler threads). */
  threadsMs: number;
  /** Other processes counted with it (the embedded PostgreSQL: the postmaster, its live children and those it has reaped). */
  databaseMs: number;
}

export interface CpuPerUnit extends CpuSample {
  totalMs: number;
  /** Units the sample is divided by. */
  units: number;
}

/** Fields after "pid (comm) ": 0 state, 1 ppid … 11 utime, 12 stime, 13 cutime, 14 cstime (proc(5)); undefined when the process is gone. */
export function statFields(file: string): string[] | undefined {
  try {
    const stat = readFileSync(file, 'utf8');
    // comm may hold spaces and parentheses: read after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

const ticks = (fields: string[] | undefined, ...at: number[]) => at.reduce((sum, i) => sum + Number(fields?.[i] ?? 0), 0);

/**
 * CPU time so far of `pid` (its main thread apart from the rest: /proc/<pid>/stat
 * counts exited threads too) and, when given, of other processes (`databasePids`:
 * the first is the parent whose reaped children's time is counted, `cutime`).
 */
export function cpuSample(pid: number, databasePids?: () => number[]): CpuSample {
  const processMs = ticks(statFields(`/proc/${pid}/stat`), 11, 12) * TICK_MS;
  const mainMs = ticks(statFields(`/proc/${pid}/task/${pid}/stat`), 11, 12) * TICK_MS;
  const [parent, ...children] = databasePids?.() ?? [];
  let databaseMs = 0;
  if (parent !== undefined) {
    databaseMs += ticks(statFields(`/proc/${parent}/stat`), 11, 12, 13, 14) * TICK_MS;
    for (const child of children) databaseMs += ticks(statFields(`/proc/${child}/stat`), 11, 12) * TICK_MS;
  }
  return { mainMs, threadsMs: processMs - mainMs, databaseMs };
}

export function cpuPerUnit(before: CpuSample, after: CpuSample, units: number): CpuPerUnit | undefined {
  if (units <= 0) return undefined;
  const per = (key: keyof CpuSample) => Math.max(0, after[key] - before[key]) / units;
  const mainMs = per('mainMs');
  const threadsMs = per('threadsMs');
  const databaseMs = per('databaseMs');
  return { mainMs, threadsMs, databaseMs, totalMs: mainMs + threadsMs + databaseMs, units };
}
