// WebSocket sessions against the whole server in one process (signal, focus and a bridge on a MemoryBus, as
// `tertulia start` runs them): two browsers-to-be join one room (the first moderates), then send valid messages
// of every type with fuzzed fields (moderator actions aimed at each other, chat, renames, constraints, lobby and
// lock, leave), now and then edited as JSON, and SDP answers to the offers focus sends them, made the way Chrome
// answers and then edited line by line (ws-message.ts and sdp-answer.ts make the pieces). Checked: the server
// answers each socket still open afterwards (a message after the others gets its reply), never replies with an
// `internal` error, logs no error, and only closes a socket the way the protocol says it may.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { pino } from 'pino';
import { startBridge } from '../../../src/bridge/index.ts';
import { MemoryBus } from '../../../src/bus/memory-bus.ts';
import { loadConfig } from '../../../src/config/config.ts';
import { startFocus } from '../../../src/focus/index.ts';
import { startSignal } from '../../../src/signal/index.ts';
import { answerFor } from '../../helpers/sdp-answer.ts';
import { ONE_ADDRESS_TEST_CAPS, WsClient } from '../../helpers/signal-client.ts';
import { serverTarget } from '../harness.ts';
import { editLines, lineEdit, type LineEdit } from './sdp-answer.ts';
import { edit, editedText, validMessage, type Edit, type Json } from './ws-message.ts';

type Step =
  | { who: 0 | 1; message: { [k: string]: Json }; edits: Edit[] }
  | { who: 0 | 1; answer: { audio: number | null; video: number | null; edits: LineEdit[]; version: 'offered' | 'stale' | 'next' } };

export interface WsSessionInput {
  names: [string, string];
  steps: Step[];
}

/** The close codes the server may use: normal, going away, policy (caps, too many messages), too big, join timeout. */
const CLOSE_CODES = new Set([1000, 1001, 1005, 1008, 1009, 4001]);

const ssrc = fc.oneof(fc.constantFrom(1, 0xffffffff), fc.integer({ min: 1, max: 0xffffffff }));

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    arbitrary: fc.record({
      who: fc.constantFrom(0 as const, 1 as const),
      message: validMessage,
      edits: fc.oneof({ arbitrary: fc.constant<Edit[]>([]), weight: 5 }, { arbitrary: fc.array(edit, { minLength: 1, maxLength: 2 }), weight: 1 }),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      who: fc.constantFrom(0 as const, 1 as const),
      answer: fc.record({
        audio: fc.option(ssrc),
        video: fc.option(ssrc),
        edits: fc.oneof({ arbitrary: fc.constant<LineEdit[]>([]), weight: 2 }, { arbitrary: fc.array(lineEdit, { minLength: 1, maxLength: 3 }), weight: 1 }),
        version: fc.constantFrom('offered' as const, 'offered' as const, 'stale' as const, 'next' as const),
      }),
    }),
    weight: 1,
  },
);

export const wsSessionTarget = serverTarget<WsSessionInput>({
  name: 'ws-session',
  about: 'two WebSocket clients against signal+focus+bridge: fuzzed messages and SDP answers; no internal error, always answered',
  input: fc.record({
    names: fc.tuple(fc.constantFrom('Ana', 'Ben', 'Zoë'), fc.constantFrom('Cai', 'Dee', '山田')),
    steps: fc.array(step, { minLength: 1, maxLength: 12 }),
  }),
  ciRuns: 20,
  async open() {
    const bus = new MemoryBus();
    const config = loadConfig({
      env: { TERTULIA_CONFIG: '' },
      overrides: { listenAddress: '127.0.0.1', httpsPort: 0, httpPort: 0, mediaPort: 0, tcpMediaPort: 0, mediaWorkers: 1, logLevel: 'silent', ...ONE_ADDRESS_TEST_CAPS },
    });
    const errors: string[] = [];
    const log = pino(
      { level: 'error', base: undefined },
      new Writable({
        write(chunk, _enc, cb) {
          errors.push(chunk.toString().trim());
          cb();
        },
      }),
    );
    const focus = startFocus({ bus, config, log, bridgeWaitMs: 3000 });
    const bridge = await startBridge({ bus, config, log, bridgeId: 'fuzz' });
    const signal = await startSignal({ bus, config, log });
    let room = 0;
    return {
      async check(input) {
        errors.length = 0;
        const roomName = `fuzz-${++room}`;
        const clients = [new WsClient(signal.httpsPort), new WsClient(signal.httpsPort)] as const;
        const all: any[][] = [[], []];
        const closes: (number | null)[] = [null, null];
        clients.forEach((c, i) => {
          c.ws.on('message', (d) => all[i]!.push(JSON.parse(d.toString())));
          void c.closed.then(({ code }) => (closes[i] = code));
        });
        try {
          const ids: string[] = [];
          for (const [i, c] of clients.entries()) {
            const joined = await c.join(roomName, input.names[i]!);
            ids.push(joined.selfId);
          }
          for (const s of input.steps) {
            const c = clients[s.who];
            if (closes[s.who] !== null) continue;
            if ('message' in s) {
              const m = structuredClone(s.message);
              for (const k of ['target', 'id', 'to']) {
                if (m[k] === '$other') m[k] = ids[1 - s.who]!;
                else if (m[k] === '$self') m[k] = ids[s.who]!;
              }
              if (m.type === 'join' || m.type === 'leave') m.room = roomName;
              await c.send(editedText(m, s.edits));
            } else {
              // answer the last offer this client got (focus sends one after joining and on changes)
              const offers = all[s.who]!.filter((x) => x.type === 'offer');
              const offer = offers[offers.length - 1];
              if (offer === undefined) continue;
              const own = Object.fromEntries(Object.entries({ audio: s.answer.audio, video: s.answer.video }).filter(([, v]) => v !== null));
              const sdp = editLines(answerFor(offer.sdp, own), s.answer.edits);
              const version = s.answer.version === 'offered' ? offer.version : s.answer.version === 'stale' ? offer.version - 1 : offer.version + 1;
              await c.send({ type: 'answer', sdp: sdp.length > 0 ? sdp : 'x', version: Math.max(0, version) });
            }
          }
          // every socket still open answers a message sent after the others: the server kept up
          for (const [i, c] of clients.entries()) {
            if (closes[i] !== null) continue;
            await c.send({ type: 'fuzz-sentinel' });
            const deadline = Date.now() + 10_000;
            while (closes[i] === null && !all[i]!.some((m) => m.type === 'error' && /fuzz-sentinel/.test(m.message))) {
              assert.ok(Date.now() < deadline, `socket ${i} got no answer to the sentinel; got ${JSON.stringify(all[i]!.slice(-3))}`);
              await new Promise((r) => setTimeout(r, 10));
            }
          }
          for (const [i, list] of all.entries()) {
            const internal = list.find((m) => m.type === 'error' && m.code === 'internal');
            assert.equal(internal, undefined, `socket ${i} was told: ${JSON.stringify(internal)}`);
          }
          for (const code of closes) assert.ok(code === null || CLOSE_CODES.has(code), `the server closed a socket with ${code}`);
          assert.deepEqual(errors, [], 'the server logged an error');
        } finally {
          for (const c of clients) c.ws.terminate();
        }
      },
      async close() {
        await signal.close();
        await bridge.close();
        await focus.close();
        await bus.close();
      },
    };
  },
});
