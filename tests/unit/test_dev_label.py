"""parse_dev_label: the one parser of dev-account labels (node, CLI signing, TUI forms and search)."""

import pytest

from chain.crypto import parse_dev_label


@pytest.mark.parametrize("text,count,index", [
    ("dev0", 16, 0),
    ("dev15", 16, 15),
    (" dev3 ", 16, 3),  # surrounding whitespace is stripped, as every caller strips its input
    ("dev9", 10, 9),
    ("dev123", None, 123),  # count None: the shape alone
])
def test_dev_label_names_an_index(text, count, index):
    assert parse_dev_label(text, count) == index


@pytest.mark.parametrize("text,count", [
    ("dev16", 16),  # one past the last dev account
    ("dev0", 0),
    ("dev", 16),
    ("devx", 16),
    ("dev-1", 16),
    ("dev1.5", 16),
    ("dev 1", 16),
    ("Dev1", 16),
    ("xdev1", 16),
    ("dev01", 16),  # leading zeros: one spelling per label, the one `keys list` prints
    ("dev00", 16),
    ("dev²", 16),  # str.isdigit() says yes, int() says no: only ASCII digits count
    ("dev١", 16),  # an Arabic-Indic one
    ("dev" + "9" * 5000, None),  # longer than any u32 index (and than int() accepts)
    ("", 16),
    ("ctdev1qqqq", 16),
])
def test_anything_else_is_not_a_dev_label(text, count):
    assert parse_dev_label(text, count) is None
