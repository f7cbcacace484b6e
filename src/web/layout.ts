// Tile grid layout.

/** Columns and rows for n tiles: as square as possible, wider than tall. */
export function gridShape(n: number): { cols: number; rows: number } {
  const cols = Math.max(1, Math.ceil(Math.sqrt(n)));
  const rows = Math.max(1, Math.ceil(n / cols));
  return { cols, rows };
}

/**
 * The grid has 2 tracks per column so that an incomplete last row can be centred: every tile spans 2
 * tracks, and the first tile of a short last row starts half a column in per missing tile.
 */
export function tileGridColumn(index: number, count: number, cols: number): string {
  const lastRowStart = Math.floor((count - 1) / cols) * cols;
  const inLastRow = count - lastRowStart;
  if (index === lastRowStart && inLastRow < cols) return `${cols - inLastRow + 1} / span 2`;
  return 'span 2';
}
