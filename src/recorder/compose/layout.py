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


def fit(w, h, aspect_w=16, aspect_h=9):
    """The largest aspect_w:aspect_h picture inside w x h (how a camera is drawn in its tile)."""
    if w * aspect_h > h * aspect_w:
        return (h * aspect_w // aspect_h, h)
    return (w, w * aspect_h // aspect_w)


def video_sizes(owners, cells, width, height):
    """
    How large each received video is drawn, for the bridge to send the simulcast layer that fits (a small layer
    for a small tile). owners: {ssrc: (participant id, 'camera'|'screen'|'audio')}; cells: place()'s result. A camera
    is drawn 16:9 inside its person's tile; a screen fills its tile, and one not drawn yet (it has not arrived)
    is counted at the whole frame, as it will take the stage. A camera whose person has no tile: 0x0.
    """
    out = []
    for ssrc, (pid, role) in sorted(owners.items()):
        if role == 'audio':
            continue
        if role == 'screen':
            cell = cells.get(('screen', pid))
            w, h = (cell[2], cell[3]) if cell else (width, height)
        else:
            cell = cells.get(pid)
            w, h = fit(cell[2], cell[3]) if cell else (0, 0)
        out.append({'ssrc': ssrc, 'width': w, 'height': h})
    return out
