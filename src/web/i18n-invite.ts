// Strings of the invite dialog (the meeting link, and the phone numbers and PIN to dial in), in English and
// Spanish. i18n.ts merges them into the app's dictionaries.

const en = {
  invitePeople: 'Invite people',
  meetingLink: 'Meeting link',
  joinByPhone: 'Join by phone',
  dialInLine: (number: string, pin: string) => `Dial in: ${number}, PIN ${pin}#`,
  dialInNumbers: 'Dial-in numbers',
  dialInPin: 'Meeting PIN',
  dialInLoading: 'Looking up the phone numbers…',
};

export type InviteStrings = typeof en;

const es: InviteStrings = {
  invitePeople: 'Invitar a otras personas',
  meetingLink: 'Enlace de la reunión',
  joinByPhone: 'Entrar por teléfono',
  dialInLine: (number, pin) => `Llama al ${number}, PIN ${pin}#`,
  dialInNumbers: 'Números de acceso telefónico',
  dialInPin: 'PIN de la reunión',
  dialInLoading: 'Buscando los números de teléfono…',
};

export const inviteDictionaries = { en, es };
