"""helpers.text: vocabulary round trips, caption matrices, LM batches and TBPTT streams."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import text as T


@settings(max_examples=30, deadline=None)
@given(st.text(min_size=1, max_size=200))
def test_char_vocab_round_trip(s):
    v = T.Vocab.from_text(s, level="char")
    ids = v.encode(s)
    assert ids.dtype == np.int64 and len(ids) == len(s)
    assert v.decode(ids) == s
    assert len(v) == len(set(s)) and v.unk is None and v.pad is None


def test_char_vocab_is_sorted_and_unknown_chars_fail():
    v = T.Vocab.from_text("banana", level="char")
    assert v.itos == ["a", "b", "n"] and v.encode("nab").tolist() == [2, 0, 1]
    with pytest.raises(KeyError):
        v.encode("z")


def test_word_vocab_specials_punctuation_and_unknowns():
    v = T.Vocab.from_text("a red star, a blue ring.", level="word")
    assert v.itos[:4] == list(T.SPECIALS) and v.pad == 0
    assert T.tokenize("a red star, a blue ring.", "word") == ["a", "red", "star", ",", "a", "blue", "ring", "."]
    ids = v.encode("a green star")
    assert ids[1] == v.unk and v.decode(ids) == "a star"      # <unk> is dropped by decode
    assert v.decode([v.stoi["a"], v.eos, v.stoi["red"]]) == "a"
    assert v.decode([v.stoi["a"], v.eos, v.stoi["red"]], stop_at_eos=False) == "a red"
    assert T.Vocab.from_text("a a b", level="word", min_count=2).itos == list(T.SPECIALS) + ["a"]


def test_encode_sentences_pads_with_bos_eos():
    v = T.Vocab.from_text("a red star\na blue ring on a plain background", level="word")
    ids, lengths = v.encode_sentences(["a red star", "a blue ring on a plain background"])
    assert ids.shape == (2, 9) and lengths.tolist() == [5, 9]
    assert ids[0, 0] == v.bos and ids[0, 4] == v.eos and (ids[0, 5:] == v.pad).all()
    assert v.decode(ids[1]) == "a blue ring on a plain background"
    cut, lens = v.encode_sentences(["a blue ring on a plain background"], max_len=4)
    assert cut.shape == (1, 4) and lens.tolist() == [4]


def test_split_is_contiguous():
    tr, va = T.split(np.arange(100), 0.1)
    assert tr.tolist() == list(range(90)) and va.tolist() == list(range(90, 100))
    with pytest.raises(ValueError):
        T.split(np.arange(10), 1.0)


def test_batches_targets_are_inputs_shifted():
    ids = np.arange(1000)
    x, y = T.batches(ids, batch_size=8, seq_len=16, rng=0)
    assert tuple(x.shape) == (8, 16) and (y[:, :-1] == x[:, 1:]).all() and (y == x + 1).all()
    x2, _ = T.batches(ids, 8, 16, rng=0)
    assert (x == x2).all()
    xn, _ = T.batches(ids, 4, 5, rng=1, as_torch=False)
    assert isinstance(xn, np.ndarray)
    with pytest.raises(ValueError):
        T.batches(np.arange(5), 2, 5)


def test_tbptt_windows_continue_each_stream():
    s = T.streams(np.arange(103), batch_size=4)
    assert s.shape == (4, 25) and s[1, 0] == 25
    wins = list(T.tbptt_windows(s, seq_len=6, as_torch=False))
    assert len(wins) == 4                                   # starts 0, 6, 12, 18 (18 + 6 < 25)
    for (x0, _), (x1, _) in zip(wins, wins[1:]):
        assert (x1[:, 0] == x0[:, -1] + 1).all()            # window k+1 picks up where k stopped
    x, y = wins[0]
    assert (y == x + 1).all()
