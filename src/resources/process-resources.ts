// What this process (or thread) holds open, for the resource counts (`resourcesPort`, resources-endpoint.ts):
// libuv handles and requests by type (timers, sockets, file reads...), file descriptors, memory.
// Every count is a plain number under a dotted name, so counts of several parts and threads merge by name.
import { readdirSync } from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';

/** Handles and requests the event loop keeps alive, by type: `handles.Timeout`, `handles.UDPWRAP`, `handles.TCPSocketWrap`... */
export function activeHandleCounts(prefix = 'handles.'): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[prefix + type] = (counts[prefix + type] ?? 0) + 1;
  return counts;
}

/** Open file descriptors of the process (every thread shares them); -1 where /proc is missing. */
export function openFileDescriptors(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return -1;
  }
}

/** The whole process: memory (bytes), file descriptors, and the main thread's handles. */
export function processResourceCounts(): Record<string, number> {
  const m = process.memoryUsage();
  return {
    'process.rss': m.rss,
    'process.heapUsed': m.heapUsed,
    'process.heapTotal': m.heapTotal,
    'process.external': m.external,
    'process.arrayBuffers': m.arrayBuffers,
    'process.fds': openFileDescriptors(),
    ...activeHandleCounts(),
  };
}

/** Adds each count of `more` to `into` (same name: summed). */
export function addCounts(into: Record<string, number>, more: Record<string, number>): Record<string, number> {
  for (const [k, v] of Object.entries(more)) into[k] = (into[k] ?? 0) + v;
  return into;
}

/** Runs a full garbage collection of this thread's heap (with or without --expose-gc); false when the engine refuses. */
export function forceGc(): boolean {
  try {
    let gc = (globalThis as { gc?: () => void }).gc;
    if (gc === undefined) {
      v8.setFlagsFromString('--expose-gc');
      gc = vm.runInNewContext('gc') as () => void;
    }
    gc();
    gc();
    return true;
  } catch {
    return false;
  }
}

/** This thread's JavaScript heap in use (a media worker's own, which the process's heapUsed does not include). */
export function threadHeapUsed(): number {
  return v8.getHeapStatistics().used_heap_size;
}

/**
 * This thread's memory besides the heap in use: `heapTotal` (what its JavaScript heap has committed, used or
 * not), `external` (C++ objects held by JS, array buffers included) and `arrayBuffers`.
 */
export function threadMemory(): { heapTotal: number; external: number; arrayBuffers: number } {
  const m = process.memoryUsage();
  return { heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers };
}
