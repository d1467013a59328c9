"""RowTable: a mapping of vectors in one matrix that keeps every row through growth, deletion
and pickling, and reads and writes many rows at once."""

import pickle

import numpy as np

from models.learners.row_table import RowTable


def test_rows_survive_growth_deletion_and_pickling_like_a_dict_of_arrays():
    rng = np.random.default_rng(3)
    table, reference = RowTable(4), {}
    for _ in range(300):  # up to 120 keys: the matrix grows 16 -> 128 rows
        key = f"k{rng.integers(120)}"
        if key in reference and rng.random() < 0.2:
            del table[key], reference[key]
            continue
        if key not in reference:
            table[key] = reference[key] = rng.normal(size=4)
        row = table[key]
        move = rng.normal(size=4)
        row += move  # in place, as a learner's step does
        reference[key] = reference[key] + move
    assert set(table) == set(reference) and len(table) == len(reference)
    for key, value in reference.items():
        assert np.allclose(table[key], value)
    loaded = pickle.loads(pickle.dumps(table))
    keys = sorted(reference)
    assert np.allclose(loaded.take(keys), np.stack([reference[k] for k in keys]))


def test_many_rows_at_once_add_new_keys_at_zero_and_take_missing_ones_from_a_default():
    table = RowTable(2, {"a": [1.0, 1.0]})
    table.add(["b", "a"], np.array([[2.0, 2.0], [0.5, 0.5]]))
    table.put(["c"], np.array([[7.0, 8.0]]))
    assert table["a"].tolist() == [1.5, 1.5] and table["b"].tolist() == [2.0, 2.0]
    assert table.take(["c", "zz"], missing=lambda key: np.zeros(2)).tolist() == [[7.0, 8.0], [0.0, 0.0]]
    assert "zz" not in table
    copy = table.copy()
    copy["a"] += 1.0
    assert table["a"].tolist() == [1.5, 1.5]
