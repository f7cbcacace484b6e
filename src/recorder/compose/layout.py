# Where each tile of a composed recording goes: pure functions, no GStreamer. A tile is one participant
# (its camera, or its name when it has no live video) or one shared screen. Layouts:
# - grid: every tile the same size, as square a grid as fits the frame;
# - speaker: the active speaker on the stage, everyone else in a strip below it;
# - whichever was chosen, a screen share takes the stage and the participants get the strip.
# Coordinates are whole pixels inside the output frame; every tile has at least 2x2 pixels.
import math

# The most tiles drawn (4x4 or a stage plus a strip of 15); the others are still heard.
MAX_TILES = 16


def grid(n, width, height, top=0):
    """n equal cells filling width x (height - top) from y=top, row by row."""
    if n <= 0:
        return []
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    cw = max(2, width // cols)
    ch = max(2, (height - top) // rows)
    cells = []
    for i in range(n):
        r, c = divmod(i, cols)
        in_row = cols if r < rows - 1 else n - cols * (rows - 1)
        # the last row is centred when it is not full
        x0 = (width - in_row * cw) // 2 if r == rows - 1 else 0
        cells.append((x0 + c * cw, top + r * ch, cw, ch))
    return cells


def strip(n, width, y, height):
    """n equal cells side by side in one row at y, centred."""
    if n <= 0:
        return []
    cw = max(2, min(width // n, height * 16 // 9))
    x0 = (width - n * cw) // 2
    return [(x0 + i * cw, y, cw, max(2, height)) for i in range(n)]


def place(tiles, width, height, mode='grid', speaker=None):
    """
    tiles: list of keys, people first in join order, screens marked ('screen', id); speaker: a person's key.
    Returns {key: (x, y, w, h)} for the tiles drawn (at most MAX_TILES).
    """
    screens = [t for t in tiles if isinstance(t, tuple) and t[0] == 'screen']
    people = [t for t in tiles if not (isinstance(t, tuple) and t[0] == 'screen')]
    if not screens and (mode != 'speaker' or len(people) < 2):
        shown = people[:MAX_TILES]
        return dict(zip(shown, grid(len(shown), width, height)))
    if screens:
        # the latest screen takes the stage; people (and any other screen) share the strip below
        stage = screens[-1]
        others = (people + screens[:-1])[: MAX_TILES - 1]
    else:
        stage = speaker if speaker in people else people[0]
        others = [p for p in people if p != stage][: MAX_TILES - 1]
    strip_h = height // 5 if others else 0
    out = {stage: (0, 0, width, height - strip_h)}
    out.update(zip(others, strip(len(others), width, height - strip_h, strip_h)))
    return out
