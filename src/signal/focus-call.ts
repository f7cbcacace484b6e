// Signal's requests to focus, tried again while no focus answers. Over NATS several focus processes may run but
// only the one holding the leader lease answers (src/focus/high-availability.ts); when it dies, nobody answers
// focus.* for the few seconds until a standby takes the lease over (BusNoHandlerError at once). A join, a leave or
// a mute in that window waits for the new focus instead of failing: a lost leave would leave a participant in
// the conference the new focus rebuilds. Other errors, and no focus after FOCUS_TAKEOVER_WAIT_MS, are thrown. In
// one process (MemoryBus) there is no standby focus: no handler fails at once.
import type { z } from 'zod';
import { BusNoHandlerError, type Bus } from '../bus/bus.ts';
import { MemoryBus } from '../bus/memory-bus.ts';
import { callBus, type BusCallSpec } from '../bus/typed-calls.ts';

/** Longer than a takeover (focus's lease time, 3 s, plus its reading the conferences back). */
export const FOCUS_TAKEOVER_WAIT_MS = 8000;
const RETRY_EVERY_MS = 250;

export async function callFocus<C extends BusCallSpec>(bus: Bus, spec: C, payload: z.input<C['request']>, timeoutMs: number): Promise<z.output<C['reply']>> {
  const deadline = bus instanceof MemoryBus ? 0 : Date.now() + FOCUS_TAKEOVER_WAIT_MS;
  for (;;) {
    try {
      return await callBus(bus, spec, '', payload, timeoutMs);
    } catch (e) {
      if (!(e instanceof BusNoHandlerError) || Date.now() + RETRY_EVERY_MS > deadline) throw e;
      await new Promise((r) => setTimeout(r, RETRY_EVERY_MS));
    }
  }
}
