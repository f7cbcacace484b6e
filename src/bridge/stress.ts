// How busy a bridge is, for focus's placement (`stress` in bridge.announce): the CPU time its process used
// since the previous reading, per core of the machine, over the wall time between them (0: idle, 1: every core
// busy with it). Media workers are threads of the process, so they count. Read every announcement (5 s).
import { availableParallelism } from 'node:os';

export class StressMeter {
  private cpu = process.cpuUsage();
  private at = performance.now();
  private readonly cores = Math.max(1, availableParallelism());

  /** The stress since the last call (the first call: since the meter was made), rounded to 0.01. */
  read(): number {
    const cpu = process.cpuUsage();
    const at = performance.now();
    const usedUs = cpu.user - this.cpu.user + (cpu.system - this.cpu.system);
    const wallUs = (at - this.at) * 1000;
    this.cpu = cpu;
    this.at = at;
    if (!(wallUs > 0)) return 0;
    return Math.round((usedUs / wallUs / this.cores) * 100) / 100;
  }
}
