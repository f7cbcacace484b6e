// Strings of the shared whiteboard and the shared notes, in English and Spanish. i18n.ts merges them into the
// app's dictionaries.

const en = {
  whiteboard: 'Whiteboard',
  closeWhiteboard: 'Close whiteboard',
  sharedNotes: 'Shared notes',
  closeSharedNotes: 'Close shared notes',
  notesPlaceholder: 'Write here: everyone in the meeting sees and edits the same notes.',
  boardLoading: 'Loading…',
  boardSavedHint: 'Moderators find the whiteboard and the notes with the recordings after the meeting.',
  boardLoadFailed: 'The whiteboard could not be loaded. Reload the page to try again.',
  errorBoardFull: 'The whiteboard and notes can take no more: this meeting\'s are as large as they may be (delete something first), or the server holds as many as it may (try again after other meetings ended).',
  errorBoardBadUpdate: 'A change to the whiteboard or notes was refused by the server.',
};

export type BoardStrings = typeof en;

const es: BoardStrings = {
  whiteboard: 'Pizarra',
  closeWhiteboard: 'Cerrar la pizarra',
  sharedNotes: 'Notas compartidas',
  closeSharedNotes: 'Cerrar las notas compartidas',
  notesPlaceholder: 'Escribe aquí: todos en la reunión ven y editan las mismas notas.',
  boardLoading: 'Cargando…',
  boardSavedHint: 'Tras la reunión, los moderadores encuentran la pizarra y las notas junto a las grabaciones.',
  boardLoadFailed: 'No se pudo cargar la pizarra. Recarga la página para intentarlo de nuevo.',
  errorBoardFull: 'La pizarra y las notas no admiten más: las de esta reunión ya ocupan todo lo que pueden (borra algo primero), o el servidor ya guarda todas las que puede (inténtalo cuando hayan terminado otras reuniones).',
  errorBoardBadUpdate: 'El servidor rechazó un cambio en la pizarra o en las notas.',
};

export const boardDictionaries = { en, es };
