// What the person reads when the server refuses or ends their join: a sentence of their language for the
// refusals they can understand (a full meeting, a cap of their network or of the server, a connection that
// waited too long), else the server's own message after a generic lead-in.
import type { Strings } from '../i18n.ts';

export function serverErrorText(t: Strings, e: { code: string; message: string }): string {
  switch (e.code) {
    case 'room-full':
      return t.errorRoomFull;
    case 'address-limit':
      return t.errorAddressLimit;
    case 'server-full':
      return t.errorServerFull;
    case 'join-timeout':
      return t.errorJoinTimeout;
    case 'recording-unavailable':
      return t.errorRecordingUnavailable;
    case 'recording-no-space':
      return t.errorRecordingNoSpace;
    case 'recording-not-found':
      return t.errorRecordingNotFound;
    case 'recording-failed':
      return `${t.errorRecordingFailed}: ${e.message}`;
    case 'live-stream-bad-url':
      return t.errorLiveStreamBadUrl;
    case 'live-stream-unavailable':
      return t.errorLiveStreamUnavailable;
    case 'live-stream-failed':
      return `${t.errorLiveStreamFailed}: ${e.message}`;
    case 'poll-closed':
      return t.errorPollClosed;
    case 'poll-limit':
      return t.errorPollLimit;
    case 'poll-not-found':
      return t.errorPollNotFound;
    case 'dial-out-unavailable':
      return t.errorDialOutUnavailable;
    case 'dial-out-limit':
      return t.errorDialOutLimit;
    case 'dial-out-sign-in':
      return t.errorDialOutSignIn;
    case 'breakout-limit':
      return t.errorBreakoutLimit;
    case 'breakout-not-found':
      return t.errorBreakoutNotFound;
    case 'e2ee-on':
      return t.errorE2eeOn;
    case 'e2ee-too-many':
      return t.errorE2eeTooMany;
    case 'e2ee-refused':
      return `${t.errorE2eeRefused}: ${e.message}`;
    case 'board-full':
      return t.errorBoardFull;
    case 'board-bad-update':
      return t.errorBoardBadUpdate;
    case 'no-accounts':
      return t.errorNoAccounts;

    default:
      return `${t.errorGeneric}: ${e.message}`;
  }
}
