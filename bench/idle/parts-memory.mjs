// Memory of each part's modules (docs/BENCHMARKS.md "Where an idle server's memory goes"): imports the parts one
// after another in this process, from the build or the sources, and prints RSS after a GC at each step.
//   node --expose-gc --disable-warning=ExperimentalWarning bench/idle/parts-memory.mjs dist   (or: src)
import path from 'node:path';
const form = process.argv[2] === 'src' ? 'src' : 'dist';
const root = path.resolve(import.meta.dirname, '../..', form), ext = form === 'src' ? '.ts' : '.js';
const step = async (label, f) => { if (f) await import(root + f + ext); globalThis.gc(); await new Promise((r) => setTimeout(r, 100)); globalThis.gc(); console.log(label.padEnd(12), Math.round(process.memoryUsage().rss / 1048576), 'MiB', 'heap', Math.round(process.memoryUsage().heapUsed / 1048576)); };
await step('bare');
await step('config', '/config/config');
await step('log', '/log');
await step('bus', '/bus/memory-bus');
await step('focus', '/focus/index');
await step('bridge', '/bridge/index');
await step('signal', '/signal/index');
await step('recorder', '/recorder/index');
await step('sip', '/sip/index');
await step('turn', '/turn/turn-service');
await step('start', '/cli/commands/start');
