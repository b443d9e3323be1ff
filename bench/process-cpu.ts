/** CPU accounting of the engine's processes (Linux /proc), for the benches' CPU per booking. */
import { readdirSync, readFileSync } from 'node:fs';

/** Live processes with their parent and command line (Linux /proc). */
function processTable(): Array<{ pid: number; ppid: number; cmd: string }> {
  const rows: Array<{ pid: number; ppid: number; cmd: string }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      rows.push({ pid: Number(entry), ppid, cmd: readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ') });
    } catch {
      // gone meanwhile
    }
  }
  return rows;
}

/** All descendants of a pid, grouped by what they are. */
export function enginePids(root: number): Record<string, number[]> {
  const table = processTable();
  const found: Record<string, number[]> = { start: [root] };
  const walk = (pid: number, group?: string) => {
    for (const child of table.filter((p) => p.ppid === pid)) {
      const name =
        group ??
        (child.cmd.includes('workers/clinical.ts')
          ? 'worker-clinical'
          : child.cmd.includes('workers/cds.ts')
            ? 'worker-cds'
            : child.cmd.includes('api/server.ts')
              ? 'api'
              : /temporal|server start/.test(child.cmd)
                ? 'temporal'
                : /postgres/.test(child.cmd)
                  ? 'postgres'
                  : 'other');
      (found[name] ??= []).push(child.pid);
      walk(child.pid, name === 'other' ? undefined : name);
    }
  };
  walk(root);
  return found;
}

/** Seconds of CPU (user + system) a process has used so far; 0 once it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks (100/s)
  } catch {
    return 0;
  }
}
