// signal's side of `signal.pin-lookup`: the sip part asks which room a PIN a caller typed belongs to (over the bus,
// so a sip part on another machine asks the same way). A PIN no room has is refused with `not-found`.
import { BusCallError, type Bus, type Unsubscribe } from '../bus/bus.ts';
import { serveBus } from '../bus/typed-calls.ts';
import { busCalls } from '../protocol/bus-calls.ts';
import type { DialInPins } from './dial-in-pins.ts';

export function serveDialIn(bus: Bus, pins: DialInPins): Unsubscribe {
  return serveBus(bus, busCalls.signalPinLookup, '', ({ pin }) => {
    const room = pins.roomFor(pin);
    if (room === undefined) throw new BusCallError('not-found', 'no room has this PIN');
    return { room };
  });
}
