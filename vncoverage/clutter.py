"""Clutter loss at the receiver: ITU-R P.2108-1 (06/2021), Annex 1, §3.1, the *height gain
terminal correction model*, on a land-cover grid.

The recommendation's §3.1 gives the median extra loss of a terminal standing below the
representative height ``R`` of the clutter around it (trees, buildings), for 0.03-3 GHz:

- equation (2a), clutter types *suburban, urban, trees/forest, dense urban*: the loss of
  diffraction over the clutter edge, ``A_h = J(nu) - 6.03`` dB, with
  ``nu = K_nu * sqrt(h_dif * theta_clut)`` (2c), ``h_dif = R - h`` (2d),
  ``theta_clut = arctan(h_dif / w_s)`` in degrees (2e), ``K_nu = 0.342 * sqrt(f)`` (2g)
  and ``J(nu)`` the knife-edge loss of ITU-R P.526-15 equation (31):
  ``J(nu) = 6.9 + 20 log10(sqrt((nu - 0.1)^2 + 1) + nu - 0.1)`` for ``nu > -0.78``, else 0;
- equation (2b), clutter types *water/sea, open/rural*: a height-gain term,
  ``A_h = -K_h2 * log10(h / R)`` dB, ``K_h2 = 21.8 + 6.2 log10(f)`` (2f);
- no correction when ``h >= R``.

``f`` is in GHz, ``h`` the terminal height and ``R`` the representative clutter height in
metres, ``w_s`` the street width (27 m, the recommendation's default, Table 3 note). Table 3
gives the default ``R`` per clutter type (water/sea, open/rural, suburban 10 m; urban,
trees/forest 15 m; dense urban 20 m).

Only §3.1 is used: the statistical terrestrial model of §3.2 is never added on top (it
models the same loss statistically for both ends of a path).

Frequencies above 3 GHz (5G n77/n78 at 3.5-3.8 GHz): outside §3.1's range. They are
evaluated at 3 GHz (a documented assumption, said in the run's notes). Both equations grow
with frequency, so the loss at 3.5 GHz is at least the 3 GHz value: the correction is a
lower bound there. Below 0.03 GHz the functions refuse (no cell uses such frequencies).

The correction is added to the path loss the propagation model computed to the clutter
top, as the recommendation intends (§3.1: the correction applies to the loss of a terminal
at the representative height ``R``): where a pixel's clutter is higher than the handset,
its path is computed with the receiver at ``R`` above the DEM (:meth:`ClutterGrid.rx_heights`,
used by :func:`vncoverage.coverage.group_window`), then ``A_h`` brings it down to ``h``.
Elsewhere the path ends at ``h``. See the README (Clutter) for why the shipped class table
applies (2b) nowhere.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .datatypes import LandCover

__all__ = [
    "CATEGORIES",
    "DIFFRACTION_CATEGORIES",
    "F_MAX_GHZ",
    "F_MIN_GHZ",
    "STREET_WIDTH_M",
    "ClutterGrid",
    "effective_frequency_ghz",
    "knife_edge_j_db",
    "terminal_correction_db",
]

#: The clutter types of P.2108-1 Table 3 (also the P.1812 clutter categories).
CATEGORIES = ("water_sea", "open_rural", "suburban", "urban", "trees_forest", "dense_urban")
#: The types whose correction is the clutter-edge diffraction of equation (2a); the others
#: use the height-gain term of equation (2b).
DIFFRACTION_CATEGORIES = frozenset({"suburban", "urban", "trees_forest", "dense_urban"})
#: Default street width w_s (m), P.2108-1 §3.1 / Table 3.
STREET_WIDTH_M = 27.0
#: The frequency range of §3.1 (GHz).
F_MIN_GHZ, F_MAX_GHZ = 0.03, 3.0


def knife_edge_j_db(nu: np.ndarray | float) -> np.ndarray:
    """Knife-edge diffraction loss J(nu), dB: ITU-R P.526-15 equation (31), the J of
    P.2108-1 equation (2a). 0 for ``nu <= -0.78``."""
    v = np.asarray(nu, dtype=float)
    j = 6.9 + 20.0 * np.log10(np.sqrt((v - 0.1) ** 2 + 1.0) + v - 0.1)
    return np.where(v > -0.78, j, 0.0)


def terminal_correction_db(f_ghz: float, h_m: float, r_m: np.ndarray | float,
                           diffraction: np.ndarray | bool, *,
                           street_width_m: float = STREET_WIDTH_M) -> np.ndarray:
    """P.2108-1 §3.1: median clutter loss (dB) of a terminal ``h_m`` above ground in
    clutter of representative height ``r_m``; ``diffraction`` selects equation (2a)
    (suburban, urban, trees/forest, dense urban), else (2b) (water/sea, open/rural).
    0 where ``h_m >= r_m``. ``r_m`` and ``diffraction`` broadcast together.

    Raises
    ------
    ValueError
        ``f_ghz`` outside 0.03-3 GHz (see :func:`effective_frequency_ghz`), ``h_m`` or
        ``street_width_m`` not positive.
    """
    if not F_MIN_GHZ <= f_ghz <= F_MAX_GHZ:
        raise ValueError(f"P.2108 §3.1 covers {F_MIN_GHZ:g}-{F_MAX_GHZ:g} GHz, "
                         f"not {f_ghz:g} GHz")
    if h_m <= 0 or street_width_m <= 0:
        raise ValueError("terminal height and street width must be > 0")
    r = np.asarray(r_m, dtype=float)
    below = h_m < r
    h_dif = np.where(below, r - h_m, 0.0)                              # (2d)
    theta = np.degrees(np.arctan(h_dif / street_width_m))              # (2e), degrees
    k_nu = 0.342 * math.sqrt(f_ghz)                                    # (2g)
    nu = k_nu * np.sqrt(h_dif * theta)                                 # (2c)
    a_diff = knife_edge_j_db(nu) - 6.03                                # (2a)
    k_h2 = 21.8 + 6.2 * math.log10(f_ghz)                              # (2f)
    a_gain = -k_h2 * np.log10(h_m / np.where(below, r, h_m))           # (2b)
    return np.where(below, np.where(diffraction, a_diff, a_gain), 0.0)


def effective_frequency_ghz(f_mhz: float) -> float:
    """The frequency (GHz) §3.1 is evaluated at for a cell of ``f_mhz``: itself within
    0.03-3 GHz, 3 GHz above (assumption, see the module docstring).

    Raises
    ------
    ValueError
        Below 30 MHz.
    """
    f = f_mhz / 1000.0
    if f < F_MIN_GHZ:
        raise ValueError(f"P.2108 §3.1 starts at 30 MHz, not {f_mhz} MHz")
    return min(f, F_MAX_GHZ)


@dataclass
class ClutterGrid:
    """The §3.1 loss of a receiver ``rx_height_m`` above ground on every pixel of a
    land-cover grid (the DEM's), per frequency.

    ``lut_height_m`` and ``lut_diffraction`` give, per class value (0-255), the
    representative clutter height (0: no clutter) and whether equation (2a) applies. The
    loss per class is computed once per frequency and kept (:meth:`class_losses_db`); a
    window (:meth:`window`, what the layers use) is looked up from it, so the whole grid
    per frequency (:meth:`loss_db`, kept once asked for) is never needed in memory.
    """

    classes: np.ndarray
    lut_height_m: np.ndarray
    lut_diffraction: np.ndarray
    rx_height_m: float
    street_width_m: float = STREET_WIDTH_M
    _grids: dict[float, np.ndarray] = field(default_factory=dict, repr=False)
    _luts: dict[float, np.ndarray] = field(default_factory=dict, repr=False)
    _paths: dict[str, object] = field(default_factory=dict, repr=False)

    @classmethod
    def from_landcover(cls, landcover: LandCover, rx_height_m: float) -> ClutterGrid:
        """The grid of a loaded land cover (:class:`~vncoverage.datatypes.LandCover`)."""
        heights = np.zeros(256, dtype=float)
        diffraction = np.zeros(256, dtype=bool)
        table = landcover.table
        for value, height, category in zip(table.index, table["height_m"],
                                           table["category"], strict=True):
            heights[int(value)] = float(height)
            diffraction[int(value)] = str(category) in DIFFRACTION_CATEGORIES
        return cls(landcover.classes, heights, diffraction, float(rx_height_m))

    @classmethod
    def from_window(cls, classes: np.ndarray, box: tuple[int, int, int, int],
                    shape: tuple[int, int], lut_height_m: np.ndarray,
                    lut_diffraction: np.ndarray, rx_height_m: float,
                    street_width_m: float = STREET_WIDTH_M) -> ClutterGrid:
        """A grid of ``shape`` whose classes are known on the box ``row0, col0, row1,
        col1`` (end-exclusive) only: ``classes`` holds that box's values (a worker's
        windowed read, :mod:`vncoverage.tiles`). Its :meth:`rx_heights` and losses on the
        box are those of the whole grid; outside it the classes are 0 and must not be
        read. The whole-grid arrays are allocated zeroed and only the box is written, so
        the memory used is the box's."""
        r0, c0, r1, c1 = box
        full = np.zeros(shape, dtype=classes.dtype)
        full[r0:r1, c0:c1] = classes
        grid = cls(full, lut_height_m, lut_diffraction, float(rx_height_m), street_width_m)
        h = lut_height_m[classes]
        heights = np.zeros(shape, dtype=np.float32)
        heights[r0:r1, c0:c1] = np.where(h > grid.rx_height_m, h, grid.rx_height_m)
        grid._paths["heights"] = heights
        return grid

    def rx_heights(self) -> np.ndarray:
        """The receiver height of each pixel's path (m, float32, the grid's shape): the
        class's representative clutter height where it is above the handset
        (``rx_height_m``), else the handset's (kept once asked for)."""
        if "heights" not in self._paths:
            # per class value, then looked up: no whole-grid float64 temporaries (the
            # same float32 numbers as taking the larger of the two per pixel)
            lut = np.where(self.lut_height_m > self.rx_height_m, self.lut_height_m,
                           self.rx_height_m).astype(np.float32)
            self._paths["heights"] = lut[self.classes]
        out = self._paths["heights"]
        assert isinstance(out, np.ndarray)
        return out

    @property
    def heights_digest(self) -> str:
        """SHA-256 (32 hex) of :meth:`rx_heights` and its shape: part of a sweep's cache
        key, since the paths depend on it."""
        if "digest" not in self._paths:
            heights = np.ascontiguousarray(self.rx_heights())
            h = hashlib.sha256(repr(heights.shape).encode())
            h.update(heights.reshape(-1).view(np.uint8).data)
            self._paths["digest"] = h.hexdigest()[:32]
        return str(self._paths["digest"])

    def class_losses_db(self, f_mhz: float) -> np.ndarray:
        """The loss (dB, float32) of each class value 0-255 at ``f_mhz`` (kept per
        frequency used)."""
        f = effective_frequency_ghz(f_mhz)
        if f not in self._luts:
            self._luts[f] = terminal_correction_db(
                f, self.rx_height_m, self.lut_height_m, self.lut_diffraction,
                street_width_m=self.street_width_m).astype(np.float32)
        return self._luts[f]

    def loss_db(self, f_mhz: float) -> np.ndarray:
        """The loss (dB, float32) on every pixel at ``f_mhz`` (kept per frequency used)."""
        f = effective_frequency_ghz(f_mhz)
        if f not in self._grids:
            self._grids[f] = self.class_losses_db(f_mhz)[self.classes]
        return self._grids[f]

    def window(self, row: int, col: int, n_rows: int, n_cols: int,
               f_mhz: float) -> np.ndarray:
        """The loss on the window of ``n_rows`` x ``n_cols`` pixels whose top-left pixel is
        (``row``, ``col``) of the grid; 0 outside the grid."""
        lut = self.class_losses_db(f_mhz)
        out = np.zeros((n_rows, n_cols), dtype=np.float32)
        nr, nc = self.classes.shape
        r0, c0 = max(row, 0), max(col, 0)
        r1, c1 = min(row + n_rows, nr), min(col + n_cols, nc)
        if r1 > r0 and c1 > c0:
            out[r0 - row:r1 - row, c0 - col:c1 - col] = lut[self.classes[r0:r1, c0:c1]]
        return out

    def shares(self) -> Mapping[str, float]:
        """Share of the grid's pixels per kind of correction: ``"diffraction"`` (2a),
        ``"height_gain"`` (2b), ``"none"`` (R at or below the receiver height)."""
        below = self.lut_height_m[self.classes] > self.rx_height_m
        diff = self.lut_diffraction[self.classes]
        n = max(self.classes.size, 1)
        return {"diffraction": float((below & diff).sum()) / n,
                "height_gain": float((below & ~diff).sum()) / n,
                "none": float((~below).sum()) / n}
