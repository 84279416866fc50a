"""The best menu offered so far, shared by the cut loop, the tree searches and the finishes."""

from __future__ import annotations

import numpy as np

from .. import rows

__all__ = ["Incumbent"]


class Incumbent:
    """The best menu offered so far on profits ``P`` (n, m), weights ``w`` (n,); a menu offered
    again is not evaluated again (roundings and node menus repeat)."""

    def __init__(self, P: np.ndarray, w: np.ndarray, menu: np.ndarray):
        self.P, self.w = P, w
        self.menu = np.sort(np.asarray(menu, dtype=np.intp))
        self.value = rows.menu_value(P, w, self.menu)
        self._seen = {self.menu.tobytes()}

    def offer(self, menu: np.ndarray) -> bool:
        """Keep ``menu`` if it is strictly better; True when it was."""
        menu = np.sort(np.asarray(menu, dtype=np.intp))
        key = menu.tobytes()
        if key in self._seen:
            return False
        self._seen.add(key)
        value = rows.menu_value(self.P, self.w, menu)
        if value > self.value:
            self.menu, self.value = menu, value
            return True
        return False
