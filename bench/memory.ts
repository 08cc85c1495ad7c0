import { readdirSync, readFileSync } from "node:fs";

/**
 * Samples the worker's processes from /proc (Linux): the workerd that `wrangler dev` runs the
 * worker in (found by its entry socket, 127.0.0.1:<port>) and wrangler's own Node process
 * (Miniflare, the local Hyperdrive proxy). Keeps the peak resident memory per phase and reads
 * workerd's kernel high-water mark (VmHWM) at the end; per phase also the CPU each used, the time
 * workerd's threads were runnable but waiting for a CPU, and how busy the whole machine was, so
 * a figure bounded by a starved CPU says so.
 */
export interface MemoryReport {
  workerdPid: number | null;
  /** CPU used per phase, in cores (CPU seconds ÷ wall seconds): what ran out, if anything. */
  cpuByPhase: Record<
    string,
    {
      seconds: number;
      workerd: number;
      /** Time workerd's threads were ready to run but waited for a CPU (other processes had it). */
      workerdWaitingForCpu: number;
      wrangler: number;
      benchRunner: number;
      machine: number;
    }
  >;
  wranglerPid: number | null;
  /** MiB, sampled every `intervalMs`. */
  peakByPhase: Record<string, { workerdMiB: number; wranglerMiB: number }>;
  workerdPeakMiB: number;
  /** Kernel-tracked peak RSS of workerd over its whole life (catches spikes between samples). */
  workerdHwmMiB: number | null;
  /** workerd's anonymous (heap) and file-backed resident memory at the end of the run. */
  workerdAnonMiBAtEnd: number | null;
  workerdFileMiBAtEnd: number | null;
  wranglerPeakMiB: number;
  intervalMs: number;
}

function processes(): Array<{ pid: number; cmd: string }> {
  const out: Array<{ pid: number; cmd: string }> = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      out.push({ pid: Number(entry), cmd: readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ") });
    } catch {
      // gone
    }
  }
  return out;
}

function statusKiB(pid: number, field: "VmRSS" | "VmHWM" | "RssAnon" | "RssFile"): number | null {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

const mib = (kib: number | null) => (kib === null ? 0 : Math.round((kib / 1024) * 10) / 10);

export function startMemorySampler(port: number, intervalMs = 200) {
  const all = processes();
  const workerd =
    all.find((p) => /\bworkerd serve\b/.test(p.cmd) && p.cmd.includes(`entry=127.0.0.1:${port} `))?.pid ?? null;
  const wrangler =
    all.find((p) => p.cmd.includes("wrangler-dist/cli.js dev") && p.cmd.includes(`--port ${port} `))?.pid ?? null;
  const report: MemoryReport = {
    workerdPid: workerd,
    cpuByPhase: {},
    wranglerPid: wrangler,
    peakByPhase: {},
    workerdPeakMiB: 0,
    workerdHwmMiB: null,
    workerdAnonMiBAtEnd: null,
    workerdFileMiBAtEnd: null,
    wranglerPeakMiB: 0,
    intervalMs,
  };
  let phase = "start";
  let mark = cpuSnapshot(workerd, wrangler);
  const closeCpu = () => {
    const now = cpuSnapshot(workerd, wrangler);
    const wall = (now.at - mark.at) / 1000;
    if (wall > 0.5) {
      const cores = (a: number, b: number) => Math.round(((a - b) / wall) * 100) / 100;
      report.cpuByPhase[phase] = {
        seconds: Math.round(wall * 10) / 10,
        workerd: cores(now.workerd, mark.workerd),
        workerdWaitingForCpu: cores(now.workerdWait, mark.workerdWait),
        wrangler: cores(now.wrangler, mark.wrangler),
        benchRunner: cores(now.self, mark.self),
        machine: cores(now.machine, mark.machine),
      };
    }
    mark = now;
  };
  const sample = () => {
    const w = workerd === null ? 0 : mib(statusKiB(workerd, "VmRSS"));
    const n = wrangler === null ? 0 : mib(statusKiB(wrangler, "VmRSS"));
    const p = (report.peakByPhase[phase] ??= { workerdMiB: 0, wranglerMiB: 0 });
    p.workerdMiB = Math.max(p.workerdMiB, w);
    p.wranglerMiB = Math.max(p.wranglerMiB, n);
    report.workerdPeakMiB = Math.max(report.workerdPeakMiB, w);
    report.wranglerPeakMiB = Math.max(report.wranglerPeakMiB, n);
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    report,
    phase(name: string) {
      sample();
      closeCpu();
      phase = name;
      sample();
    },
    current: () => (workerd === null ? 0 : mib(statusKiB(workerd, "VmRSS"))),
    stop(): MemoryReport {
      sample();
      closeCpu();
      clearInterval(timer);
      if (workerd !== null) {
        report.workerdHwmMiB = mib(statusKiB(workerd, "VmHWM"));
        report.workerdAnonMiBAtEnd = mib(statusKiB(workerd, "RssAnon"));
        report.workerdFileMiBAtEnd = mib(statusKiB(workerd, "RssFile"));
      }
      return report;
    },
  };
}

const TICKS = 100; // USER_HZ: /proc reports CPU time in 1/100 s on Linux

export function processCpuSeconds(pid: number | null): number {
  if (pid === null) return 0;
  try {
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th of them.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return 0;
  }
}

/** Busy CPU seconds of the whole machine (all cores, everything but idle and iowait). */
function machineCpuSeconds(): number {
  const [, ...v] = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/);
  const n = v.map(Number);
  const total = n.slice(0, 8).reduce((a, b) => a + b, 0);
  return (total - n[3]! - n[4]!) / TICKS;
}

/** Seconds the process's threads spent runnable but waiting for a CPU (/proc/<pid>/task/<tid>/schedstat). */
function runQueueWaitSeconds(pid: number | null): number {
  if (pid === null) return 0;
  let ns = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[1]);
      } catch {
        // thread gone
      }
    }
  } catch {
    return 0;
  }
  return ns / 1e9;
}

function cpuSnapshot(workerd: number | null, wrangler: number | null) {
  const self = process.cpuUsage();
  return {
    at: Date.now(),
    workerd: processCpuSeconds(workerd),
    workerdWait: runQueueWaitSeconds(workerd),
    wrangler: processCpuSeconds(wrangler),
    self: (self.user + self.system) / 1e6,
    machine: machineCpuSeconds(),
  };
}
