// Strings of the breakout rooms (the participants pane's section and the banner while in one), in English and
// Spanish. i18n.ts merges them into the app's dictionaries.

const en = {
  breakoutRooms: 'Breakout rooms',
  addBreakoutRoom: 'Add breakout room',
  breakoutRoomDefaultName: (n: number) => `Breakout room ${n}`,
  autoAssign: 'Auto assign to breakout rooms',
  closeAllBreakoutRooms: 'Close all breakout rooms',
  letParticipantsChoose: 'Let participants choose a breakout room',
  mainRoom: 'Main room',
  breakoutPeople: (n: number) => (n === 1 ? '1 person' : `${n} people`),
  joinBreakoutRoom: (name: string) => `Join ${name}`,
  breakoutJoin: 'Join',
  leaveBreakoutRoom: 'Leave breakout room',
  renameBreakoutRoom: (name: string) => `Rename ${name}`,
  breakoutRename: 'Rename',
  breakoutRoomName: 'Breakout room name',
  breakoutSave: 'Save',
  closeBreakoutRoom: (name: string) => `Close ${name}`,
  breakoutClose: 'Close',
  removeBreakoutRoom: (name: string) => `Remove ${name}`,
  breakoutRemove: 'Remove',
  moveParticipant: (name: string) => `Move ${name} to`,
  staysInMainRoom: 'stays in the main room',
  inBreakoutRoom: (name: string) => `You are in the breakout room “${name}”`,
  noBreakoutRooms: 'No breakout rooms yet.',
  errorBreakoutLimit: 'This meeting has as many breakout rooms as it may have.',
  errorBreakoutNotFound: 'That breakout room is not in this meeting any more.',
};

export type BreakoutStrings = typeof en;

const es: BreakoutStrings = {
  breakoutRooms: 'Salas para grupos',
  addBreakoutRoom: 'Añadir sala para grupos',
  breakoutRoomDefaultName: (n: number) => `Sala para grupos ${n}`,
  autoAssign: 'Asignar automáticamente a las salas para grupos',
  closeAllBreakoutRooms: 'Cerrar todas las salas para grupos',
  letParticipantsChoose: 'Dejar que los participantes elijan sala para grupos',
  mainRoom: 'Sala principal',
  breakoutPeople: (n: number) => (n === 1 ? '1 persona' : `${n} personas`),
  joinBreakoutRoom: (name: string) => `Entrar en ${name}`,
  breakoutJoin: 'Entrar',
  leaveBreakoutRoom: 'Salir de la sala para grupos',
  renameBreakoutRoom: (name: string) => `Cambiar el nombre de ${name}`,
  breakoutRename: 'Cambiar nombre',
  breakoutRoomName: 'Nombre de la sala para grupos',
  breakoutSave: 'Guardar',
  closeBreakoutRoom: (name: string) => `Cerrar ${name}`,
  breakoutClose: 'Cerrar',
  removeBreakoutRoom: (name: string) => `Eliminar ${name}`,
  breakoutRemove: 'Eliminar',
  moveParticipant: (name: string) => `Mover a ${name} a`,
  staysInMainRoom: 'se queda en la sala principal',
  inBreakoutRoom: (name: string) => `Estás en la sala para grupos «${name}»`,
  noBreakoutRooms: 'Todavía no hay salas para grupos.',
  errorBreakoutLimit: 'Esta reunión ya tiene todas las salas para grupos que puede tener.',
  errorBreakoutNotFound: 'Esa sala para grupos ya no está en esta reunión.',
};

export const breakoutDictionaries = { en, es };
