// Every visible string and accessible name of the app, in English and Spanish.
import { createContext, useContext } from 'react';
import type { RoomNameFault } from '../protocol/room-name.ts';
import { meetingDictionaries, type MeetingStrings } from './i18n-meeting.ts';
import { accessDictionaries, type AccessStrings } from './i18n-access.ts';
import { recordingsDictionaries, type RecordingsStrings } from './i18n-recordings.ts';
import { inviteDictionaries, type InviteStrings } from './i18n-invite.ts';
import { pollsDictionaries, type PollsStrings } from './i18n-polls.ts';
import { phoneDictionaries, type PhoneStrings } from './i18n-phone.ts';
import { effectsDictionaries, type EffectsStrings } from './i18n-effects.ts';
import { avDictionaries, type AvStrings } from './i18n-av.ts';
import { breakoutDictionaries, type BreakoutStrings } from './i18n-breakout.ts';
import { e2eeDictionaries, type E2eeStrings } from './i18n-e2ee.ts';
import { boardDictionaries, type BoardStrings } from './i18n-board.ts';


export type Language = 'en' | 'es';

const en = {
  tagline: 'Video meetings on your own server',
  /** Backs out of a question or a form (polls, confirmations). */
  cancel: 'Cancel',
  roomName: 'Room name',
  roomNameHint: 'Any words, spaces included; capitals do not matter — anyone with the same name joins the same room.',
  roomNameFault: (fault: RoomNameFault): string =>
    ({
      empty: 'Enter a room name.',
      'too-long': 'A room name has at most 128 characters.',
      'url-character': 'A room name may not contain "/", "\\", "?", "#" or "%".',
      invisible: 'This name holds invisible or control characters (shown as ⟨U+…⟩ above); type the name again.',
      'spaces-only': 'A room name needs more than spaces.',
      dots: '"." and ".." are not room names.',
    })[fault],
  startMeeting: 'Start meeting',
  suggestAnother: 'Suggest another name',
  invalidRoomTitle: 'This room name is not valid',
  yourName: 'Your name',
  yourNamePlaceholder: 'How should others see you?',
  joinMeeting: 'Join meeting',
  joinHint: 'Check your camera and microphone, then join.',
  cameraPreview: 'Camera preview',
  cameraOff: 'Your camera is off',
  noCamera: 'No camera found',
  noMicrophone: 'No microphone found',
  startingDevices: 'Starting camera and microphone…',
  muteMicrophone: 'Mute microphone',
  unmuteMicrophone: 'Unmute microphone',
  stopCamera: 'Stop camera',
  startCamera: 'Start camera',
  leaveMeeting: 'Leave meeting',
  meetingControls: 'Meeting controls',
  participants: 'Participants',
  microphoneMuted: 'Microphone muted',
  cameraOffLabel: 'Camera off',
  you: 'you',
  connecting: 'Connecting…',
  reconnecting: 'Reconnecting…',
  mediaInterrupted: 'Connection interrupted: reconnecting…',
  directConnection: 'Direct connection',
  directConnectionHint: 'Your audio and video go straight to the other participant, not through the server',
  aloneTitle: 'You are the only one here',
  aloneHint: 'Share this page’s address to invite others.',
  aloneInBreakoutHint: 'Others join this breakout room from the meeting’s main room.',
  copyLink: 'Copy meeting link',
  linkCopied: 'Link copied',
  youLeft: 'You left the meeting',
  leftHint: 'Thanks for joining.',
  rejoin: 'Rejoin',
  goToStart: 'Go to start page',
  connectionLost: 'Connection lost',
  connectionLostHint: 'The connection to the server was interrupted.',
  couldNotJoin: 'Could not join the meeting',
  dismiss: 'Dismiss',
  errorRoomFull: 'This meeting is full.',
  errorAddressLimit: 'Too many connections or new meetings come from your network right now. Close other meeting tabs, or wait a minute and try again.',
  errorServerFull: 'This server is at its limit of meetings or participants. Please try again later.',
  errorMediaUnavailable: 'Audio and video could not be set up for this meeting (the server did not answer in time).',
  tryAgain: 'Try again',
  errorJoinTimeout: 'The connection waited too long without joining the meeting and was closed.',
  errorGeneric: 'The server reported an error',
  errorRateLimited: 'Too many requests at once. Wait a moment and try again.',
};

export type Strings = typeof en & MeetingStrings & AccessStrings & RecordingsStrings & InviteStrings & PollsStrings & PhoneStrings & EffectsStrings & AvStrings & BreakoutStrings & E2eeStrings & BoardStrings;

const es: typeof en = {
  tagline: 'Videorreuniones en tu propio servidor',
  cancel: 'Cancelar',
  roomName: 'Nombre de la sala',
  roomNameHint: 'Cualquier texto, también con espacios; mayúsculas o minúsculas da igual: quien use el mismo nombre entra en la misma sala.',
  roomNameFault: (fault: RoomNameFault): string =>
    ({
      empty: 'Escribe un nombre de sala.',
      'too-long': 'Un nombre de sala tiene como mucho 128 caracteres.',
      'url-character': 'Un nombre de sala no puede contener «/», «\\», «?», «#» ni «%».',
      invisible: 'Este nombre contiene caracteres invisibles o de control (se muestran arriba como ⟨U+…⟩); vuelve a escribirlo.',
      'spaces-only': 'Un nombre de sala necesita algo más que espacios.',
      dots: '«.» y «..» no son nombres de sala.',
    })[fault],
  startMeeting: 'Iniciar reunión',
  suggestAnother: 'Sugerir otro nombre',
  invalidRoomTitle: 'Este nombre de sala no es válido',
  yourName: 'Tu nombre',
  yourNamePlaceholder: '¿Cómo quieres que te vean?',
  joinMeeting: 'Unirse a la reunión',
  joinHint: 'Comprueba tu cámara y tu micrófono y únete.',
  cameraPreview: 'Vista previa de la cámara',
  cameraOff: 'Tu cámara está apagada',
  noCamera: 'No se encontró ninguna cámara',
  noMicrophone: 'No se encontró ningún micrófono',
  startingDevices: 'Iniciando cámara y micrófono…',
  muteMicrophone: 'Silenciar micrófono',
  unmuteMicrophone: 'Activar micrófono',
  stopCamera: 'Detener cámara',
  startCamera: 'Iniciar cámara',
  leaveMeeting: 'Salir de la reunión',
  meetingControls: 'Controles de la reunión',
  participants: 'Participantes',
  microphoneMuted: 'Micrófono silenciado',
  cameraOffLabel: 'Cámara apagada',
  you: 'tú',
  connecting: 'Conectando…',
  reconnecting: 'Reconectando…',
  mediaInterrupted: 'Conexión interrumpida: reconectando…',
  directConnection: 'Conexión directa',
  directConnectionHint: 'Tu audio y tu vídeo van directamente al otro participante, sin pasar por el servidor',
  aloneTitle: 'Eres la única persona aquí',
  aloneHint: 'Comparte la dirección de esta página para invitar a otras personas.',
  aloneInBreakoutHint: 'Se entra en esta sala para grupos desde la sala principal de la reunión.',
  copyLink: 'Copiar enlace de la reunión',
  linkCopied: 'Enlace copiado',
  youLeft: 'Has salido de la reunión',
  leftHint: 'Gracias por participar.',
  rejoin: 'Volver a unirse',
  goToStart: 'Ir a la página de inicio',
  connectionLost: 'Se perdió la conexión',
  connectionLostHint: 'Se interrumpió la conexión con el servidor.',
  couldNotJoin: 'No se pudo entrar en la reunión',
  dismiss: 'Cerrar',
  errorRoomFull: 'Esta reunión está completa.',
  errorAddressLimit: 'Ahora mismo llegan demasiadas conexiones o reuniones nuevas desde tu red. Cierra otras pestañas de reuniones, o espera un minuto y vuelve a intentarlo.',
  errorServerFull: 'Este servidor ha llegado a su límite de reuniones o participantes. Vuelve a intentarlo más tarde.',
  errorMediaUnavailable: 'No se pudo preparar el audio y el vídeo de esta reunión (el servidor no respondió a tiempo).',
  tryAgain: 'Reintentar',
  errorJoinTimeout: 'La conexión esperó demasiado sin entrar en la reunión y se cerró.',
  errorGeneric: 'El servidor informó de un error',
  errorRateLimited: 'Demasiadas solicitudes seguidas. Espera un momento y vuelve a intentarlo.',
};

export const dictionaries: Record<Language, Strings> = {
  en: { ...en, ...meetingDictionaries.en, ...accessDictionaries.en, ...recordingsDictionaries.en, ...inviteDictionaries.en, ...pollsDictionaries.en, ...phoneDictionaries.en, ...effectsDictionaries.en, ...avDictionaries.en, ...breakoutDictionaries.en, ...e2eeDictionaries.en, ...boardDictionaries.en },
  es: { ...es, ...meetingDictionaries.es, ...accessDictionaries.es, ...recordingsDictionaries.es, ...inviteDictionaries.es, ...pollsDictionaries.es, ...phoneDictionaries.es, ...effectsDictionaries.es, ...avDictionaries.es, ...breakoutDictionaries.es, ...e2eeDictionaries.es, ...boardDictionaries.es },
};

/**
 * `?lang=es` / `?lang=en` win; then the hash option `config.defaultLanguage`; then the browser's language.
 */
export function detectLanguage(search: string, navigatorLanguage: string | undefined, hashLanguage?: string): Language {
  const forced = new URLSearchParams(search).get('lang');
  for (const candidate of [forced, hashLanguage]) {
    const l = candidate?.toLowerCase();
    if (l?.startsWith('es')) return 'es';
    if (l?.startsWith('en')) return 'en';
  }
  return navigatorLanguage?.toLowerCase().startsWith('es') ? 'es' : 'en';
}

export const I18nContext = createContext<Strings>(dictionaries.en);

export function useStrings(): Strings {
  return useContext(I18nContext);
}
