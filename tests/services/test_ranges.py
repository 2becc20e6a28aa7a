import pytest

from exchange.services.downloads import RangeNotSatisfiable, parse_range


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=500-", "bytes=100-200", "bytes=100-100"])
def test_a_range_starting_past_the_end_says_so(header):
    with pytest.raises(RangeNotSatisfiable) as raised:
        parse_range(header, 100)
    assert "starts beyond the package's 100 bytes" in raised.value.message
    assert "ends before it starts" not in raised.value.message


def test_a_reversed_range_inside_the_file_says_it_ends_before_it_starts():
    with pytest.raises(RangeNotSatisfiable) as raised:
        parse_range("bytes=50-10", 100)
    assert "ends before it starts" in raised.value.message


def test_ranges_inside_the_file_are_served():
    assert parse_range("bytes=10-", 100) == (10, 99)
    assert parse_range("bytes=99-500", 100) == (99, 99)
