// What the person reads when the server refuses or ends their join: a sentence of their language for the
// refusals they can understand (a full meeting, a cap of their network or of the server, a connection that
// waited too long), else the server's own message after a generic lead-in. And why the live stream dialog did
// not take an address.
import type { StreamUrlProblem } from '../../protocol/stream-url.ts';
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
    case 'media-unavailable':
      return t.errorMediaUnavailable;
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
    case 'rate-limited':
      return t.errorRateLimited;

    default:
      return `${t.errorGeneric}: ${e.message}`;
  }
}

/**
 * Why the live stream dialog's address was not taken: the page's own check (stream-url.ts), in the page's
 * language, else the server's refusal (a bad address with the server's reason: a server of another version).
 */
export function liveStreamRefusalText(t: Strings, problem: StreamUrlProblem | null, refused: { code: string; message: string } | null): string | null {
  if (problem) return `${t.liveUrlInvalid}: ${t.liveUrlProblem(problem)}`;
  if (!refused) return null;
  return refused.code === 'live-stream-bad-url' ? `${t.liveUrlInvalid}: ${refused.message}` : serverErrorText(t, refused);
}
