import { readFileSync } from 'node:fs';

// CPU time of a process from Linux's /proc, for the benchmarks: the whole process (every
// thread) and its main thread alone (the event loop, which runs JavaScript, the HTTP parser and
// the SQLite statements, while the thread pool signs and verifies). 0 where /proc is not.

/** The fields of a /proc `stat` file after `pid (comm)` (the command name may hold spaces). */
function statFields(path: string): string[] {
  const stat = readFileSync(path, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** utime + stime (fields 14 and 15 of the whole line, 11 and 12 here) in seconds; clock ticks are 100 a second. */
function seconds(path: string): number {
  try {
    const fields = statFields(path);
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** CPU seconds (user + system, every thread) process `pid` has used so far. */
export function cpuSeconds(pid: number | undefined): number {
  return pid === undefined ? 0 : seconds(`/proc/${pid}/stat`);
}

/** CPU seconds (user + system) the main thread of process `pid` — its event loop — has used so far. */
export function mainThreadCpuSeconds(pid: number | undefined): number {
  return pid === undefined ? 0 : seconds(`/proc/${pid}/task/${pid}/stat`);
}

/** The parent process of `pid` (0 where unknown). */
export function parentOf(pid: number): number {
  try {
    return Number(statFields(`/proc/${pid}/stat`)[1]);
  } catch {
    return 0;
  }
}
