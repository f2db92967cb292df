"""``PendingRows._lines``: each packed row's line gets its table id and its references'
ids in front, with ``\\N`` for a reference to no row, whatever the number of references."""

from communities.demo.generate import PackedRows, PendingRows


class _Layout:
    """Stands for ``_Preformatted``: gives the heads back with the formatted lines."""

    def lines(self, heads, formatted):
        return heads, formatted


def _pending(references):
    pending = PendingRows.__new__(PendingRows)  # no database: only what ``_lines`` reads
    pending.references = {"row": references}
    pending.layouts = {"row": _Layout()}
    return pending


def test_heads_with_no_reference():
    packed = PackedRows([(2,), (1,), (3,)], b"x")
    heads, formatted = _pending({})._lines("row", packed, {"row": [101, 102, 103]})
    assert heads == [b"102", b"101", b"103"] and formatted == b"x"


def test_heads_with_one_reference_some_to_no_row():
    packed = PackedRows([(1, 2), (2, None), (3, 1)], b"x")
    new = {"row": [101, 102, 103], "target": [7001, 7002]}
    heads, _ = _pending({"parent_id": "target"})._lines("row", packed, new)
    assert heads == [b"101\t7002", b"102\t\\N", b"103\t7001"]


def test_heads_with_two_references():
    packed = PackedRows([(1, 2, None), (2, None, 1)], b"x")
    new = {"row": [101, 102], "a": [501, 502], "b": [901]}
    heads, _ = _pending({"a_id": "a", "b_id": "b"})._lines("row", packed, new)
    assert heads == [b"101\t502\t\\N", b"102\t\\N\t901"]


def test_a_reference_to_a_model_the_task_made_no_row_of():
    """Every reference of the task's rows is None then: the target has no ids."""
    packed = PackedRows([(1, None)], b"x")
    heads, _ = _pending({"parent_id": "target"})._lines("row", packed, {"row": [55]})
    assert heads == [b"55\t\\N"]
