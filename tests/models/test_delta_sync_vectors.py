"""Tables of vectors (latent factors) sync like tables of numbers: every process ends with the
initial values plus every process's moves, however the models move them in place."""

import numpy as np

from models.learners.delta_sync import DeltaSync
from models.learners.row_table import RowTable


def test_vector_tables_end_with_every_move_once_even_when_learning_mutates_them_in_place():
    rng = np.random.default_rng(7)
    init = {f"i{n}": rng.normal(size=3) for n in range(6)}
    syncs = [DeltaSync(), DeltaSync()]
    tables = [RowTable(3, init), RowTable(3, init)]
    total = {k: np.zeros(3) for k in init}
    for _ in range(5):
        dirty: list[set[str]] = [set(), set()]
        for side in (0, 1):
            for _ in range(8):
                key = f"i{rng.integers(6)}"
                move = rng.normal(size=3)
                row = tables[side][key]
                row -= move  # in place, as MatrixFactorization's step does
                total[key] -= move
                dirty[side].add(key)
        out = [syncs[side].take_changes(tables[side], sorted(dirty[side]), init.__getitem__) for side in (0, 1)]
        syncs[0].apply(tables[0], out[1], "p1", init.__getitem__)
        syncs[1].apply(tables[1], out[0], "p0", init.__getitem__)
    for key in init:
        assert np.allclose(tables[0][key], init[key] + total[key])
        assert np.allclose(tables[1][key], tables[0][key])
    # a total from a process that holds nothing new adds nothing
    before = {k: tables[0][k].copy() for k in init}
    syncs[0].catch_up(tables[0], syncs[1].own, "p1", init.__getitem__)
    assert all(np.allclose(before[k], tables[0][k]) for k in init)
