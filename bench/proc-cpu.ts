import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

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

/**
 * The sentence a device benchmark ends on: what the target rate would cost at the CPU per request
 * measured (`cpuMs`, the server's threads; `mainMs`, its event loop; `clientMs`, the load
 * generator's, which shares the machine), beside the cores this machine has. Where the whole
 * would need more than the machine, or the event loop more than its one core, the target is out
 * of reach of these costs.
 */
export function needAtTarget(
  ratePerSecond: number,
  cpuMs: number,
  mainMs: number,
  clientMs: number,
  what: string,
): string {
  const cores = (ratePerSecond * cpuMs) / 1000;
  const loop = (ratePerSecond * mainMs) / 1000;
  const client = (ratePerSecond * clientMs) / 1000;
  return `At the target's ${ratePerSecond.toFixed(0)} a second, this ${what}'s costs (${cpuMs.toFixed(2)} ms of CPU, ${mainMs.toFixed(2)} ms on the event loop) would take ${cores.toFixed(2)} cores and ${(100 * loop).toFixed(0)}% of the event loop's one core, and the load generator's ${clientMs.toFixed(2)} ms a request (measured in the same window) ${client.toFixed(2)} more: ${(cores + client).toFixed(2)} cores in all, on a machine of ${cpus().length}.`;
}

/** What the server and the load generator used of the machine while measured, as a sentence. */
export function machineUse(perSecond: number, cpuMs: number, clientMs: number): string {
  const server = (perSecond * cpuMs) / 1000;
  const client = (perSecond * clientMs) / 1000;
  return `While measured, the server used ${server.toFixed(2)} cores and the load generator ${client.toFixed(2)}: ${(server + client).toFixed(2)} of the machine's ${cpus().length}.`;
}
