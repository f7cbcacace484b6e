// Strings of the Recordings dialog (moderators: this room's recordings, download, delete) and of the recorder's
// disk-space refusals and notices, in English and Spanish. i18n.ts merges them into the app's dictionaries.

const en = {
  recordings: 'Recordings',
  recordingsTitle: 'Recordings of this meeting',
  recordingsLoading: 'Loading…',
  recordingsNone: 'This meeting has no recordings yet.',
  recordingsRoom: 'Room',
  recordingsDate: 'Date',
  recordingsDuration: 'Duration',
  recordingsSize: 'Size',
  recordingsActions: 'Actions',
  recordingsRunning: 'Recording now',
  recordingsLinkHint: 'Download links work for one hour.',
  download: 'Download',
  downloadRecording: (when: string) => `Download the recording of ${when}`,
  deleteRecording: (when: string) => `Delete the recording of ${when}`,
  confirmDeleteRecording: (when: string) => `Delete the recording of ${when} for good?`,
  confirmDelete: 'Delete',
  recordingDiskFullNotice: "The recording stopped: the recorder's disk is full",
  errorRecordingNoSpace: 'Not enough disk space on the recorder',
  errorRecordingNotFound: 'That recording is gone (deleted already, or its recorder is not running).',
  adminRecordingsTitle: 'Recordings of every room',
  adminSignInHint: 'Sign in with an admin account (one named in the adminAccounts setting).',
  adminNotAdmin: 'This account is not an admin (adminAccounts), or its sign-in has ended.',
  adminNoRecordings: 'There are no recordings.',
  refreshList: 'Refresh',
  signOut: 'Sign out',
};

export type RecordingsStrings = typeof en;

const es: RecordingsStrings = {
  recordings: 'Grabaciones',
  recordingsTitle: 'Grabaciones de esta reunión',
  recordingsLoading: 'Cargando…',
  recordingsNone: 'Esta reunión aún no tiene grabaciones.',
  recordingsRoom: 'Sala',
  recordingsDate: 'Fecha',
  recordingsDuration: 'Duración',
  recordingsSize: 'Tamaño',
  recordingsActions: 'Acciones',
  recordingsRunning: 'Grabando ahora',
  recordingsLinkHint: 'Los enlaces de descarga funcionan durante una hora.',
  download: 'Descargar',
  downloadRecording: (when: string) => `Descargar la grabación del ${when}`,
  deleteRecording: (when: string) => `Eliminar la grabación del ${when}`,
  confirmDeleteRecording: (when: string) => `¿Eliminar definitivamente la grabación del ${when}?`,
  confirmDelete: 'Eliminar',
  recordingDiskFullNotice: 'La grabación se ha detenido: el disco del grabador está lleno',
  errorRecordingNoSpace: 'No hay suficiente espacio en el disco del grabador',
  errorRecordingNotFound: 'Esa grabación ya no existe (se eliminó o su grabador no está en marcha).',
  adminRecordingsTitle: 'Grabaciones de todas las salas',
  adminSignInHint: 'Inicia sesión con una cuenta de administración (una de las nombradas en el ajuste adminAccounts).',
  adminNotAdmin: 'Esta cuenta no es de administración (adminAccounts) o su sesión ha terminado.',
  adminNoRecordings: 'No hay grabaciones.',
  refreshList: 'Actualizar',
  signOut: 'Cerrar sesión',
};

export const recordingsDictionaries = { en, es };
