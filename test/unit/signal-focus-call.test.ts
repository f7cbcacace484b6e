// Signal's calls to focus (src/signal/focus-call.ts) on a real nats-server: while no focus answers (a standby is
// taking the leader lease over) a call waits and reaches the focus that appears; a refusal is not tried again; in
// one process (MemoryBus) no focus fails at once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BusCallError, BusNoHandlerError } from '../../src/bus/bus.ts';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import { NatsBus } from '../../src/bus/nats-bus.ts';
import { createLogger } from '../../src/log.ts';
import { busCalls } from '../../src/protocol/bus-calls.ts';
import { subjects } from '../../src/protocol/bus-messages.ts';
import { callFocus } from '../../src/signal/focus-call.ts';
import { startNatsServer, type NatsServer } from '../helpers/nats.ts';

const log = createLogger('silent');
const JOIN = { conferenceId: 'sala', participantId: 'A' };

describe('signal calls focus across a takeover', () => {
  let nats: NatsServer;
  let signal: NatsBus;
  let focus: NatsBus;
  before(async () => {
    nats = await startNatsServer();
    signal = await NatsBus.connect({ url: nats.url, log, reconnectWaitMs: 200 });
    focus = await NatsBus.connect({ url: nats.url, log, reconnectWaitMs: 200 });
  });
  after(async () => {
    await signal?.close();
    await focus?.close();
    await nats?.stop();
  });

  test('a join made while no focus answers reaches the focus that takes over', async () => {
    const seen: unknown[] = [];
    const call = callFocus(signal, busCalls.focusJoin, JOIN, 5000);
    await new Promise((r) => setTimeout(r, 1000));
    const stop = focus.handle(subjects.focusJoin, (p) => (seen.push(p), { ok: true }));
    try {
      assert.deepEqual(await call, { ok: true });
      assert.deepEqual(seen, [JOIN]);
    } finally {
      stop();
      // the server has dropped this handler before the next test's call (else that call could reach it, unanswered)
      await focus.flush();
    }
  });

  test("a focus's refusal is not tried again", async () => {
    let n = 0;
    const stop = focus.handle(subjects.focusJoin, () => {
      n++;
      throw new BusCallError('no-capacity', 'full');
    });
    await focus.flush();
    try {
      await assert.rejects(callFocus(signal, busCalls.focusJoin, JOIN, 5000), (e: Error) => e instanceof BusCallError && e.code === 'no-capacity');
      assert.equal(n, 1);
    } finally {
      stop();
    }
  });

  test('in one process no focus fails at once', async () => {
    await assert.rejects(callFocus(new MemoryBus(), busCalls.focusJoin, JOIN, 5000), BusNoHandlerError);
  });
});
