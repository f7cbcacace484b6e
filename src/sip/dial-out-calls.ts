// The media of "Invite by phone" (dial-out-service.ts's DialOutMedia): a phone leg opened for the offer, and once
// the callee answers, the callee joins the room as a phone participant (named after the number's last digits,
// like a caller) and the call runs as a call in does (call.ts: voice both ways, *6, a moderator's remove -> BYE).
// A callee the room will not take (its rules, a full server) or whose answer cannot be used is hung up.
import type { Logger } from '../log.ts';
import { Call, type MeetingSide } from './call.ts';
import type { DialOutMedia } from './dial-out-service.ts';
import type { Dialog, Dialogs } from './dialogs.ts';
import { parseNameAddr, parseUri } from './headers.ts';
import type { MeetingGateway } from './meeting-gateway.ts';
import { PhoneMedia, type PhoneMediaOptions } from './media/phone-media.ts';

export function dialOutMedia(o: {
  dialogs: Dialogs;
  meetings: Pick<MeetingGateway, 'join'>;
  phone: PhoneMediaOptions;
  log: Logger;
  onCall: (call: Call) => void;
}): DialOutMedia {
  /** Phone legs offered and not yet answered or failed, by dial id. */
  const legs = new Map<string, PhoneMedia>();
  return {
    async offer(_room, dialId) {
      const media = await PhoneMedia.open(o.phone);
      legs.set(dialId, media);
      return media.offer();
    },
    failed(_room, dialId) {
      legs.get(dialId)?.close();
      legs.delete(dialId);
    },
    answered(room, dialId, dialog, answer) {
      const media = legs.get(dialId);
      legs.delete(dialId);
      if (!media) return o.dialogs.hangUp(dialog);
      void join(room, dialog, media, answer);
    },
  };

  async function join(room: string, dialog: Dialog, media: PhoneMedia, answer: string): Promise<void> {
    const log = o.log.child({ room });
    let meeting: MeetingSide | undefined;
    let gone = false;
    dialog.onEnded = () => (gone = true);
    try {
      media.acceptAnswer(answer);
      // the callee as a caller is named: the number's last digits (the whole number is never shown)
      const user = parseUri(parseNameAddr(dialog.from)?.uri ?? '')?.user ?? '';
      meeting = await o.meetings.join({ room, ...(user ? { callerId: user.slice(0, 64) } : {}) });
    } catch (e) {
      log.info({ err: (e as Error).message }, 'dial-out: the answered callee cannot join the meeting: hung up');
      media.close();
      return o.dialogs.hangUp(dialog);
    }
    if (gone) {
      media.close();
      await meeting.close().catch(() => {});
      return;
    }
    const call = new Call(dialog, media, meeting, { log, hangUp: () => o.dialogs.hangUp(dialog) });
    log.info('dial-out: the callee is in the meeting');
    o.onCall(call);
  }
}
