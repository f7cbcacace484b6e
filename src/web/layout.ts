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

/**
 * Columns for n 16:9 tiles in a width x height area with `gap` pixels between them: the count that makes
 * the tiles largest (so a wide window gets more columns and a tall phone screen fewer).
 */
export function bestColumns(n: number, width: number, height: number, gap = 10, aspect = 16 / 9): number {
  if (n <= 1 || width <= 0 || height <= 0) return Math.max(1, gridShape(n).cols);
  let best = 1;
  let bestWidth = 0;
  for (let cols = 1; cols <= n; cols++) {
    const rows = Math.ceil(n / cols);
    const cellW = (width - gap * (cols - 1)) / cols;
    const cellH = (height - gap * (rows - 1)) / rows;
    const tileW = Math.min(cellW, cellH * aspect);
    if (tileW > bestWidth + 0.5) {
      bestWidth = tileW;
      best = cols;
    }
  }
  return best;
}
