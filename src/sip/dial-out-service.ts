// The sip part's side of "Invite by phone": opens the SIP trunk from the settings (sipTrunk*), keeps the
// registration when sipTrunkRegister asks for it, and serves `sip.dial` / `sip.dial-cancel` on the bus. A dial
// gets its SDP offer from the call's media (`DialOutMedia`, the phone leg of call.ts), calls out (dial-out.ts),
// and hands an answered call to the media with the answer SDP; the bus reply says answered, or why not.
// `startDialOut` is what the sip part's start calls, in one line.
import type { Bus, Unsubscribe } from '../bus/bus.ts';
import { BusCallError } from '../bus/bus.ts';
import { serveBus } from '../bus/typed-calls.ts';
import type { Config } from '../config/config.ts';
import type { Logger } from '../log.ts';
import { busCalls } from '../protocol/bus-calls.ts';
import type { SipPath } from './client-transactions.ts';
import { DialOut } from './dial-out.ts';
import type { Dialog, Dialogs } from './dialogs.ts';
import { Registration } from './registration.ts';
import type { LocalAddress } from './requests.ts';
import { openTrunk, type Trunk } from './trunk.ts';

/** Calls going out (not yet answered) at once at most; more are refused with 'limit'. */
export const MAX_DIAL_OUTS = 50;

/** The media of a call going out, provided by the call glue. */
export interface DialOutMedia {
  /** The SDP offer of a new phone leg for `room`. */
  offer(room: string, dialId: string): Promise<string>;
  /** The call was answered: the leg joins the room with the answer SDP; the dialog is the call's from here. */
  answered(room: string, dialId: string, dialog: Dialog, answer: string): void;
  /** The call did not happen: what `offer` prepared can go. */
  failed(room: string, dialId: string): void;
}

export interface DialOutServiceOptions {
  bus: Bus;
  trunk: Trunk | null;
  dialogs: Dialogs;
  /** Where requests to the trunk go (SipServer.udpPath of the trunk's address). */
  path: SipPath | null;
  local: LocalAddress;
  log: Logger;
  media: DialOutMedia;
  noAnswerMs?: number;
}

/** Serves `sip.dial` and `sip.dial-cancel`; without a trunk every dial is refused with 'unavailable'. */
export function serveDialOut(o: DialOutServiceOptions): Unsubscribe {
  const calls = new Map<string, DialOut>();
  const offDial = serveBus(o.bus, busCalls.sipDial, '', async (req) => {
    if (o.trunk === null || o.path === null) throw new BusCallError('unavailable', 'no SIP trunk is configured (sipTrunkUri)');
    if (calls.size >= MAX_DIAL_OUTS || calls.has(req.dialId)) throw new BusCallError('limit', `at most ${MAX_DIAL_OUTS} calls may be going out at once`);
    const offer = await o.media.offer(req.room, req.dialId);
    const call = new DialOut({ trunk: o.trunk, dialogs: o.dialogs, path: o.path, local: o.local, target: req.target, offer, noAnswerMs: o.noAnswerMs });
    calls.set(req.dialId, call);
    // the number is the callee's: only its last digits reach the log
    const masked = req.target.replace(/^(sips?:)?.*(.{4})$/i, (_m, scheme: string | undefined, tail: string) => `${scheme ?? ''}…${tail}`);
    o.log.info({ room: req.room, dialId: req.dialId, target: masked, callId: call.callId }, 'dial-out: calling');
    const result = await call.result.finally(() => calls.delete(req.dialId));
    if (!result.ok) {
      o.log.info({ room: req.room, dialId: req.dialId, reason: result.reason, status: result.status }, 'dial-out: not answered');
      o.media.failed(req.room, req.dialId);
      return { answered: false, reason: result.reason, ...(result.status === undefined ? {} : { status: result.status }) };
    }
    o.log.info({ room: req.room, dialId: req.dialId, callId: call.callId }, 'dial-out: answered');
    o.media.answered(req.room, req.dialId, result.dialog, result.answer);
    return { answered: true };
  });
  const offCancel = serveBus(o.bus, busCalls.sipDialCancel, '', (req) => {
    const call = calls.get(req.dialId);
    if (!call) throw new BusCallError('not-found', 'that call is not ringing');
    call.cancel();
    return { ok: true as const };
  });
  return () => {
    offDial();
    offCancel();
    for (const call of calls.values()) call.cancel();
  };
}

/**
 * Opens the trunk of the settings (none when sipTrunkUri is empty), registers with it when sipTrunkRegister is
 * on, and serves dial-out on the bus. `server` is the sip part's SipServer (its udpPath). Throws a TrunkError
 * with a message naming the setting when the trunk settings are wrong.
 */
export async function startDialOut(o: {
  bus: Bus;
  config: Pick<Config, 'sipTrunkUri' | 'sipTrunkProxy' | 'sipTrunkUser' | 'sipTrunkPassword' | 'sipTrunkRegister' | 'sipTrunkFrom'>;
  server: { udpPath(address: string, port: number): SipPath };
  dialogs: Dialogs;
  local: LocalAddress;
  log: Logger;
  media: DialOutMedia;
}): Promise<{ registration: Registration | null; close(): Promise<void> }> {
  const c = o.config;
  const trunk = c.sipTrunkUri
    ? await openTrunk({ uri: c.sipTrunkUri, proxy: c.sipTrunkProxy, user: c.sipTrunkUser, password: c.sipTrunkPassword, register: c.sipTrunkRegister, from: c.sipTrunkFrom })
    : null;
  const path = trunk === null ? null : o.server.udpPath(trunk.address, trunk.port);
  let registration: Registration | null = null;
  if (trunk !== null && path !== null && c.sipTrunkRegister) {
    registration = new Registration({ trunk, transactions: o.dialogs.transactions, path, local: o.local, log: o.log });
    registration.start();
  }
  const stop = serveDialOut({ bus: o.bus, trunk, dialogs: o.dialogs, path, local: o.local, log: o.log, media: o.media });
  if (trunk !== null) o.log.info({ trunk: trunk.domain, via: `${trunk.address}:${trunk.port}`, register: c.sipTrunkRegister }, 'SIP trunk for dial-out');
  return {
    registration,
    async close() {
      stop();
      await registration?.stop();
    },
  };
}
