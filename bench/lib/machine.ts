import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';

/** How busy the machine was: load averages and the share of CPU time spent busy since the previous sample. */
export type LoadSample = { at: string; load1: number; load5: number; busyPercent: number | null };

let previous: { busy: number; total: number } | null = null;

function cpuTimes(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = values[3] + (values[4] ?? 0);
  const total = values.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

export function sampleLoad(): LoadSample {
  const [load1, load5] = loadavg();
  const now = cpuTimes();
  const busyPercent = previous && now.total > previous.total ? (100 * (now.busy - previous.busy)) / (now.total - previous.total) : null;
  previous = now;
  return { at: new Date().toISOString(), load1: round(load1), load5: round(load5), busyPercent: busyPercent === null ? null : round(busyPercent) };
}

/** CPU seconds (user + system) a process has used so far; null when it is gone. */
export function processCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** Peak resident set size (VmHWM) in MiB. */
export function peakRssMiB(pid: number): number | null {
  return statusField(pid, 'VmHWM');
}

export function rssMiB(pid: number): number | null {
  return statusField(pid, 'VmRSS');
}

/** Resets the VmHWM high-water mark (Linux: write 5 to clear_refs), so a peak can be measured per scenario. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

function statusField(pid: number, name: string): number | null {
  try {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
