// The sip part's way to the room of a PIN a caller typed: `signal.pin-lookup` over the bus (signal keeps the
// PINs, src/signal/dial-in-pins.ts). Undefined when no room has it; a bus failure (signal not reachable) throws.
import type { Bus } from '../bus/bus.ts';
import { callBus, failedWith } from '../bus/typed-calls.ts';
import { busCalls } from '../protocol/bus-calls.ts';
import { pinSchema } from '../protocol/dial-in-messages.ts';

const LOOKUP_TIMEOUT_MS = 5000;

export type PinLookup = (pin: string) => Promise<string | undefined>;

export function pinLookupOverBus(bus: Bus): PinLookup {
  return async (pin) => {
    if (!pinSchema.safeParse(pin).success) return undefined; // '#' alone, too long: no room has it
    try {
      return (await callBus(bus, busCalls.signalPinLookup, '', { pin }, LOOKUP_TIMEOUT_MS)).room;
    } catch (e) {
      if (failedWith(busCalls.signalPinLookup, e, 'not-found')) return undefined;
      throw e;
    }
  };
}
