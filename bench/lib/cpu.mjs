/**
 * CPU time read from `/proc` (Linux): the whole machine's (every process: the bench, the
 * server, PostgreSQL, Redis) and one process's. On a machine shared by a server and its
 * database, CPU per operation says what a system costs independently of how the scheduler
 * shared the CPUs out. Each answers null where `/proc` cannot be read.
 */
import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

/** Busy CPU seconds of the machine so far (user, nice, system, irq, softirq, steal), or null. */
export function machineBusySeconds() {
  let line;
  try {
    line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  } catch {
    return null;
  }
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return (user + nice + system + irq + softirq + (steal || 0)) / TICKS_PER_SECOND;
}

/** CPU seconds (user + system) process `pid` has used so far, or null. */
export function processCpuSeconds(pid) {
  let stat;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // Fields after the command name (which may hold spaces), which ends at the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/**
 * Starts a CPU measurement of the machine, this process (`own`) and the processes named in
 * `pids` (name → pid). `stop()` then answers, per name, the CPU seconds spent meanwhile (null
 * where a reading is missing).
 *
 * @example
 * const cpu = startCpuMeasure({ server: child.pid });
 * // … the measured run …
 * const { machine, own, server } = cpu.stop();
 */
export function startCpuMeasure(pids = {}) {
  const read = () => {
    const own = process.cpuUsage();
    return {
      machine: machineBusySeconds(),
      own: (own.user + own.system) / 1e6,
      ...Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, processCpuSeconds(pid)])),
    };
  };
  const start = read();
  return {
    stop() {
      const end = read();
      return Object.fromEntries(
        Object.keys(start).map((key) => [key, start[key] === null || end[key] === null ? null : end[key] - start[key]]),
      );
    },
  };
}

/** Each of `seconds` (from `stop()`) as ms per `count` operations (null stays null, as does a count of 0). */
export function msPer(seconds, count) {
  return Object.fromEntries(
    Object.entries(seconds).map(([key, value]) => [key, value === null || count === 0 ? null : (value * 1000) / count]),
  );
}
