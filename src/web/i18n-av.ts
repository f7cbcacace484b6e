// Strings of the video-quality dialog (audio only, low bandwidth), of audio/video moderation ("Ask to
// unmute") and of the talk-while-muted notice, in English and Spanish. i18n.ts merges them into the app's dictionaries.
import type { MediaKind } from '../protocol/signal-messages.ts';

const en = {
  manageVideoQuality: 'Manage video quality',
  videoQuality: 'Video quality',
  videoQualityHint: 'Lower quality uses less bandwidth: it caps the video you receive and the video you send.',
  qualityHigh: 'High definition',
  qualityStandard: 'Standard definition',
  qualityLow: 'Low definition',
  qualityAudioOnly: 'Audio only',
  audioOnlyHint: 'Audio only (low bandwidth): you receive no video and your camera is off; tiles show names.',
  audioOnlyOn: 'Audio only: video is off to save bandwidth',
  moderateMicrophones: 'Moderate microphones',
  moderateCameras: 'Moderate cameras',
  avModerationHint: 'While moderated, participants start muted and must ask a moderator before they unmute.',
  askToUnmute: 'Ask to unmute',
  askToStartVideo: 'Ask to start video',
  cancelUnmuteRequest: 'Cancel request to unmute',
  cancelVideoRequest: 'Cancel request to start video',
  unmuteModerated: 'A moderator moderates microphones: ask to unmute.',
  videoModerated: 'A moderator moderates cameras: ask to start your video.',
  requestSent: 'Request sent; waiting for a moderator.',
  allowedToUnmute: (kind: MediaKind): string => (kind === 'audio' ? 'A moderator allowed you to unmute.' : 'A moderator allowed you to start your video.'),
  unmuteRequests: 'Asking to unmute',
  asksFor: (name: string, kind: MediaKind) => (kind === 'audio' ? `${name} asks to unmute` : `${name} asks to start video`),
  allowShort: 'Allow',
  allowPerson: (name: string, kind: MediaKind) => (kind === 'audio' ? `Allow ${name} to unmute` : `Allow ${name} to start video`),
  dismissRequest: (name: string, kind: MediaKind) => (kind === 'audio' ? `Dismiss ${name}'s request to unmute` : `Dismiss ${name}'s request to start video`),
  allowEveryone: (kind: MediaKind): string => (kind === 'audio' ? 'Allow everyone who asked to unmute' : 'Allow everyone who asked to start video'),
  talkWhileMuted: 'You are muted. Are you trying to speak?',
  talkWhileMutedUnmute: 'Unmute',
};

export type AvStrings = typeof en;

const es: AvStrings = {
  manageVideoQuality: 'Gestionar la calidad de vídeo',
  videoQuality: 'Calidad de vídeo',
  videoQualityHint: 'Una calidad menor usa menos ancho de banda: limita el vídeo que recibes y el que envías.',
  qualityHigh: 'Alta definición',
  qualityStandard: 'Definición estándar',
  qualityLow: 'Baja definición',
  qualityAudioOnly: 'Solo audio',
  audioOnlyHint: 'Solo audio (poco ancho de banda): no recibes vídeo y tu cámara está apagada; las miniaturas muestran los nombres.',
  audioOnlyOn: 'Solo audio: el vídeo está desactivado para ahorrar ancho de banda',
  moderateMicrophones: 'Moderar micrófonos',
  moderateCameras: 'Moderar cámaras',
  avModerationHint: 'Mientras se modera, los participantes entran silenciados y deben pedir permiso a un moderador para activarse.',
  askToUnmute: 'Pedir activar el micrófono',
  askToStartVideo: 'Pedir iniciar el vídeo',
  cancelUnmuteRequest: 'Cancelar la petición de activar el micrófono',
  cancelVideoRequest: 'Cancelar la petición de iniciar el vídeo',
  unmuteModerated: 'Un moderador modera los micrófonos: pide permiso para activar el tuyo.',
  videoModerated: 'Un moderador modera las cámaras: pide permiso para iniciar tu vídeo.',
  requestSent: 'Petición enviada; esperando a un moderador.',
  allowedToUnmute: (kind: MediaKind) => (kind === 'audio' ? 'Un moderador te permite activar el micrófono.' : 'Un moderador te permite iniciar tu vídeo.'),
  unmuteRequests: 'Piden activarse',
  asksFor: (name: string, kind: MediaKind) => (kind === 'audio' ? `${name} pide activar el micrófono` : `${name} pide iniciar el vídeo`),
  allowShort: 'Permitir',
  allowPerson: (name: string, kind: MediaKind) => (kind === 'audio' ? `Permitir a ${name} activar el micrófono` : `Permitir a ${name} iniciar el vídeo`),
  dismissRequest: (name: string, kind: MediaKind) => (kind === 'audio' ? `Descartar la petición de ${name} de activar el micrófono` : `Descartar la petición de ${name} de iniciar el vídeo`),
  allowEveryone: (kind: MediaKind) => (kind === 'audio' ? 'Permitir activar el micrófono a todos los que lo pidieron' : 'Permitir iniciar el vídeo a todos los que lo pidieron'),
  talkWhileMuted: 'Tienes el micrófono silenciado. ¿Intentas hablar?',
  talkWhileMutedUnmute: 'Activar el micrófono',
};

export const avDictionaries = { en, es };
