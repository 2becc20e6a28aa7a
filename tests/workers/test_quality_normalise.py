"""Near-duplicate normalisation: the all-ASCII path agrees with the Unicode path value for value,
and a value's normal form never depends on the other values of its batch (the ASCII path once
removed $ + < = > ^ ` | ~, which are symbols, not punctuation: "a+b" normalised to "ab" in an
ASCII batch and to "a+b" beside one Chinese value)."""

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from workers.quality import normalise as N

# ASCII letters, digits, punctuation and symbols, every ASCII whitespace, CJK, kana, Hangul,
# and characters that need the Unicode path (full-width, ligatures, Unicode spaces and
# punctuation, combining marks, ß, final sigma, NEL, NBSP)
ASCII = list("aAzZ09 !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~\t\n\r\f\v")
STABLE = ASCII + list("数据质量あアカ한국")
OTHER = list("ＡＢ１，。、ﬁ\u3000\u2028\u00a0\u0085\u2003ßẞΣς\u0301\u3099⑴«»—")
texts = st.lists(st.text(alphabet=st.sampled_from(STABLE + OTHER), max_size=12), min_size=1, max_size=40)
stable_texts = st.lists(st.text(alphabet=st.sampled_from(STABLE), max_size=12), min_size=1, max_size=40)
ascii_texts = st.lists(st.text(alphabet=st.sampled_from(ASCII), max_size=12), min_size=1, max_size=40)


@settings(max_examples=300, deadline=None)
@given(ascii_texts)
def test_ascii_path_equals_unicode_path(values):
    arr = pa.array(values, pa.string())
    assert N._normalise_ascii(arr).to_pylist() == N._normalise_unicode(arr).to_pylist()


@settings(max_examples=200, deadline=None)
@given(texts)
def test_unicode_path_is_per_value(values):
    arr = pa.array(values, pa.string())
    whole = N._normalise_unicode(arr).to_pylist()
    assert whole == [N._normalise_unicode(pa.array([v], pa.string())).to_pylist()[0] for v in values]


@settings(max_examples=200, deadline=None)
@given(stable_texts, st.booleans())
def test_a_value_normalises_the_same_in_an_ascii_and_a_mixed_batch(values, large):
    kind = pa.large_string() if large else pa.string()
    alone = N.normalise_text(pa.array(values, kind)).to_pylist()
    mixed = N.normalise_text(pa.array(values + ["数据，质量"], kind)).to_pylist()
    assert mixed[:-1] == alone
    assert mixed[-1] == "数据质量"


def test_known_forms():
    arr = pa.array(["Hello,  World!", "a+b $5", "  x\t\ty  ", "a\vb", "ＡＢ，ｃ", "Straße", "", "__"])
    assert N.normalise_text(arr).to_pylist() == ["hello world", "a+b $5", "x y", "a b", "abc", "strasse", "", ""]


def test_sliced_arrays_use_their_own_offsets():
    arr = pa.array(["IGNORED, ME", "Keep,  This", "And  THIS"]).slice(1)
    assert N.normalise_text(arr).to_pylist() == ["keep this", "and this"]
