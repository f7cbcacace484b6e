// Strings of "Invite by phone" (moderators call a phone number or SIP address into the meeting through the SIP
// gateway), in English and Spanish. i18n.ts merges them into the app's dictionaries.
import type { DialOutFailure } from '../protocol/dial-out-messages.ts';

const en = {
  inviteByPhone: 'Invite by phone',
  phoneTarget: 'Phone number or SIP address',
  phoneTargetHint: 'Digits with + * #, or sip:user@host',
  phoneCall: 'Call',
  phoneTargetInvalid: 'Enter a phone number (digits, +, *, #) or a SIP address (sip:user@host).',
  phoneCalls: 'Phone invitations',
  phoneCalling: (target: string) => `Calling ${target}…`,
  phoneAnswered: (target: string) => `${target} answered`,
  phoneCancel: (target: string) => `Stop calling ${target}`,
  phoneFailed: (target: string, reason: string) => `Could not reach ${target}: ${reason}`,
  phoneReason: (r: DialOutFailure) => ({
    busy: 'busy',
    'not-found': 'number not found',
    'no-answer': 'no answer',
    declined: 'declined',
    cancelled: 'cancelled',
    unauthorized: 'the phone gateway was refused by its SIP trunk',
    failed: 'the call failed',
  })[r],
  errorDialOutUnavailable: 'Calling phones is not set up on this server.',
  errorDialOutLimit: 'Too many phone invitations are ringing at once; wait for one to end.',
  errorDialOutSignIn: 'Inviting by phone needs a moderator who signed in.',
};

export type PhoneStrings = typeof en;

const es: PhoneStrings = {
  inviteByPhone: 'Invitar por teléfono',
  phoneTarget: 'Número de teléfono o dirección SIP',
  phoneTargetHint: 'Dígitos con + * #, o sip:usuario@servidor',
  phoneCall: 'Llamar',
  phoneTargetInvalid: 'Escribe un número de teléfono (dígitos, +, *, #) o una dirección SIP (sip:usuario@servidor).',
  phoneCalls: 'Invitaciones por teléfono',
  phoneCalling: (target) => `Llamando a ${target}…`,
  phoneAnswered: (target) => `${target} ha contestado`,
  phoneCancel: (target) => `Dejar de llamar a ${target}`,
  phoneFailed: (target, reason) => `No se pudo contactar con ${target}: ${reason}`,
  phoneReason: (r) => ({
    busy: 'ocupado',
    'not-found': 'número no encontrado',
    'no-answer': 'no contesta',
    declined: 'rechazada',
    cancelled: 'cancelada',
    unauthorized: 'el proveedor SIP rechazó a la pasarela telefónica',
    failed: 'la llamada falló',
  })[r],
  errorDialOutUnavailable: 'Este servidor no tiene configuradas las llamadas a teléfonos.',
  errorDialOutLimit: 'Hay demasiadas invitaciones por teléfono sonando a la vez; espera a que termine alguna.',
  errorDialOutSignIn: 'Para invitar por teléfono hace falta un moderador que haya iniciado sesión.',
};

export const phoneDictionaries = { en, es };
