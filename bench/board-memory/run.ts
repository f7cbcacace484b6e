// What a whiteboard-and-notes document costs in memory at its caps (signal/board.ts): a Y.Doc filled the way
// browsers fill it (two people typing notes one character at a time at scattered places, each keystroke its own
// update; or Excalidraw elements set and moved), until it reaches MAX_BOARD_DOC_BYTES encoded or
// MAX_BOARD_STRUCTS structs; prints the encoded size, structs and the heap it holds (after a full GC).
// Run: .tools/node22/node_modules/node/bin/node --expose-gc bench/board-memory/run.ts (each kind in a process of its own)
import { execFileSync } from 'node:child_process';
import * as Y from 'yjs';
import { BOARD_ELEMENTS, BOARD_NOTES, MAX_BOARD_DOC_BYTES } from '../../src/protocol/board-messages.ts';
import { MAX_BOARD_STRUCTS } from '../../src/signal/board.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

function structs(doc: Y.Doc): number {
  let n = 0;
  for (const s of doc.store.clients.values()) n += s.length;
  return n;
}

function heap(): number {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
}

const KINDS = ['notes typed at scattered places', 'whiteboard elements set and moved'] as const;
const only = KINDS.find((k) => k === process.argv[2]);
if (!only) for (const k of KINDS) process.stdout.write(execFileSync(process.execPath, ['--expose-gc', process.argv[1]!, k]));
for (const kind of only ? [only] : []) {
  const before = heap();
  const server = new Y.Doc();
  const writers = [new Y.Doc(), new Y.Doc()];
  let i = 0;
  let bytes = 0;
  let n = 0;
  for (;;) {
    const w = writers[i % 2]!;
    const sv = Y.encodeStateVector(w);
    if (kind === 'notes typed at scattered places') {
      const text = w.getText(BOARD_NOTES);
      text.insert((i * 7919) % (text.length + 1), String.fromCharCode(97 + (i % 26)));
    } else {
      const id = `el-${i % 400}`;
      w.getMap(BOARD_ELEMENTS).set(id, JSON.stringify({ id, type: 'rectangle', x: i, y: i % 97, width: 50, height: 30, version: i, index: `a${i % 400}` }));
    }
    const update = Y.encodeStateAsUpdate(w, sv);
    Y.applyUpdate(server, update);
    Y.applyUpdate(writers[(i + 1) % 2]!, update);
    i++;
    if (i % 500 === 0) {
      bytes = Y.encodeStateAsUpdate(server).byteLength;
      n = structs(server);
      if (bytes >= MAX_BOARD_DOC_BYTES || n >= MAX_BOARD_STRUCTS) break;
    }
  }
  for (const w of writers) w.destroy();
  writers.length = 0;
  const held = heap() - before;
  console.log(`${kind}: ${i} updates, ${(bytes / 1024).toFixed(0)} KiB encoded, ${n} structs, ${(held / 1024 / 1024).toFixed(1)} MiB heap (${(held / bytes).toFixed(0)}x)`);
  server.destroy();
}
