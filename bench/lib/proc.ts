/**
 * What /proc says about a process: its peak and current RSS, CPU time, and the sidecar
 * processes this process launched. Linux only; every reader returns undefined when the
 * process is gone.
 */
import * as fs from 'node:fs';

const TICKS_PER_S = 100; // USER_HZ: 100 on every Linux this runs on (getconf CLK_TCK)

function read(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function statusKb(pid: number, key: string): number | undefined {
  const m = read(`/proc/${pid}/status`)?.match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'));
  return m ? Number(m[1]) : undefined;
}

/** Peak resident set (VmHWM) in MB, since the start or the last resetPeakRss. */
export function peakRssMb(pid: number): number | undefined {
  const kb = statusKb(pid, 'VmHWM');
  return kb === undefined ? undefined : (kb * 1024) / 1e6;
}

export function rssMb(pid: number): number | undefined {
  const kb = statusKb(pid, 'VmRSS');
  return kb === undefined ? undefined : (kb * 1024) / 1e6;
}

/** Starts a new VmHWM window (writes 5 to clear_refs); false if the kernel refused. */
export function resetPeakRss(pid: number): boolean {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** User + system CPU seconds of the process (all its threads) so far. */
export function cpuSeconds(pid: number): number | undefined {
  const stat = read(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  // The command name may hold spaces and parentheses: fields count from the last ')'.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / TICKS_PER_S;
}

/** Whether `pid` is a child of `parent` whose command line contains every one of `parts`. */
export function isChildWith(pid: number, parent: number, parts: string[]): boolean {
  const stat = read(`/proc/${pid}/stat`);
  if (!stat) return false;
  const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  if (ppid !== parent) return false;
  const cmd = (read(`/proc/${pid}/cmdline`) ?? '').split('\0').join(' ');
  return parts.every((p) => cmd.includes(p));
}

/** Children of `parent` whose command line contains every one of `parts`. */
export function childPids(parent: number, parts: string[]): number[] {
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (/^\d+$/.test(name) && isChildWith(Number(name), parent, parts)) out.push(Number(name));
  }
  return out;
}

/**
 * Peak RSS and CPU of a set of processes over one workload: VmHWM windows where the kernel
 * lets us reset them, else the highest VmRSS seen by sampling every 100 ms (both are kept;
 * the report takes the larger).
 */
export class ProcessWatch {
  private readonly cpu0 = new Map<number, number>();
  private readonly sampled = new Map<number, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pids: () => Map<string, number | undefined>) {
    for (const pid of this.current()) {
      resetPeakRss(pid);
      this.cpu0.set(pid, cpuSeconds(pid) ?? 0);
    }
    this.timer = setInterval(() => this.sample(), 100);
    this.timer.unref();
  }

  private current(): number[] {
    return [...this.pids().values()].filter((p): p is number => p !== undefined);
  }

  private sample(): void {
    for (const pid of this.current()) {
      const r = rssMb(pid);
      if (r !== undefined) this.sampled.set(pid, Math.max(this.sampled.get(pid) ?? 0, r));
      if (!this.cpu0.has(pid)) this.cpu0.set(pid, 0); // a process started during the window: all of its CPU counts
    }
  }

  /** Per name: peak RSS (MB) and CPU seconds in the window. */
  finish(): Map<string, { peakMb: number; cpuS: number; pid: number }> {
    this.sample();
    clearInterval(this.timer);
    const out = new Map<string, { peakMb: number; cpuS: number; pid: number }>();
    for (const [name, pid] of this.pids()) {
      if (pid === undefined) continue;
      const peakMb = Math.max(peakRssMb(pid) ?? 0, this.sampled.get(pid) ?? 0);
      const cpuS = (cpuSeconds(pid) ?? 0) - (this.cpu0.get(pid) ?? 0);
      out.set(name, { peakMb, cpuS, pid });
    }
    return out;
  }
}
