"""A small vocabulary and tokenizer for the course's text: the corpus and the procedural captions.

    text, name = H.data.load_corpus()
    vocab = H.text.Vocab.from_text(text, level="char")      # or level="word" (captions)
    ids = vocab.encode("to be")                             # int64 array
    vocab.decode(ids)                                       # "to be"
    train, val = H.text.split(ids, val_fraction=0.1)
    x, y = H.text.batches(train, batch_size=32, seq_len=64, rng=rng)   # targets = inputs shifted by 1

Two levels:

- "char": every character is a token (min-char-rnn style); decode joins with "".
- "word": words and punctuation marks are tokens (`tokenize`), with the special tokens
  <pad> (id 0), <bos>, <eos> and <unk>; decode joins with single spaces and drops specials.
  `encode_sentences` turns a list of sentences (e.g. captions) into a padded matrix with
  <bos> ... <eos>, the input format of a caption decoder.

`batches` draws random windows for a language model; `streams` and `tbptt_windows` cut the
text into batch_size parallel streams read in consecutive windows, the layout of truncated
backpropagation through time (the hidden state carries over from one window to the next).
Numpy in, numpy out, except `batches`/`tbptt_windows`, which give torch tensors when torch is
importable and as_torch=True. Used in: lectures 07, 08.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Vocab", "tokenize", "split", "batches", "streams", "tbptt_windows", "SPECIALS"]

SPECIALS = ("<pad>", "<bos>", "<eos>", "<unk>")
_WORD = re.compile(r"\w+|[^\w\s]")


def tokenize(text: str, level: str = "char") -> list[str]:
    """Tokens of `text`: its characters ("char"), or its words and punctuation marks ("word")."""
    if level == "char":
        return list(text)
    if level == "word":
        return _WORD.findall(text)
    raise ValueError(f"level must be 'char' or 'word', got {level!r}")


@dataclass
class Vocab:
    """Tokens <-> integer ids. `itos[i]` is the token of id i; `stoi` the inverse map.

    Build one with `Vocab.from_text`. Word vocabularies start with SPECIALS (so <pad> is 0);
    char vocabularies have none unless asked (every character of the corpus is known).
    """

    itos: list
    level: str = "char"
    stoi: dict = field(init=False, repr=False)

    def __post_init__(self):
        if self.level not in ("char", "word"):
            raise ValueError(f"level must be 'char' or 'word', got {self.level!r}")
        if len(set(self.itos)) != len(self.itos):
            raise ValueError("tokens of a vocabulary must be distinct")
        self.stoi = {t: i for i, t in enumerate(self.itos)}

    @classmethod
    def from_text(cls, text: str, level: str = "char", min_count: int = 1, specials=None) -> Vocab:
        """The vocabulary of `text`: its tokens seen at least min_count times, sorted.

        specials: tokens put first (default: SPECIALS for words, none for characters).
        """
        if specials is None:
            specials = SPECIALS if level == "word" else ()
        counts = Counter(tokenize(text, level))
        tokens = sorted(t for t, c in counts.items() if c >= min_count and t not in specials)
        return cls(list(specials) + tokens, level)

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token) -> bool:
        return token in self.stoi

    @property
    def pad(self) -> int | None:
        return self.stoi.get("<pad>")

    @property
    def bos(self) -> int | None:
        return self.stoi.get("<bos>")

    @property
    def eos(self) -> int | None:
        return self.stoi.get("<eos>")

    @property
    def unk(self) -> int | None:
        return self.stoi.get("<unk>")

    def encode(self, text: str) -> np.ndarray:
        """int64 ids of the tokens of `text`; unknown tokens become <unk> (KeyError if there is none)."""
        unk = self.unk
        toks = tokenize(text, self.level)
        if unk is None:
            return np.fromiter((self.stoi[t] for t in toks), dtype=np.int64, count=len(toks))
        return np.fromiter((self.stoi.get(t, unk) for t in toks), dtype=np.int64, count=len(toks))

    def decode(self, ids, stop_at_eos: bool = True) -> str:
        """Text of a sequence of ids. Word level: joined by spaces, specials dropped, and
        (stop_at_eos) everything after the first <eos> ignored."""
        ids = [int(i) for i in np.asarray(ids).reshape(-1)]
        if self.level == "char":
            return "".join(self.itos[i] for i in ids)
        words = []
        for i in ids:
            if stop_at_eos and i == self.eos:
                break
            if self.itos[i] not in SPECIALS:
                words.append(self.itos[i])
        return " ".join(words)

    def encode_sentences(self, sentences, max_len: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(ids, lengths): each sentence as <bos> tokens <eos>, right-padded with <pad> into an
        int64 matrix (N, L); L = the longest sentence (+2), or max_len (longer ones are cut,
        keeping <eos> out). lengths counts the real tokens including <bos> and <eos>."""
        if self.bos is None or self.eos is None or self.pad is None:
            raise ValueError("encode_sentences needs a vocabulary with <pad>, <bos> and <eos>")
        rows = [np.concatenate([[self.bos], self.encode(s), [self.eos]]) for s in sentences]
        if max_len is not None:
            rows = [r[:max_len] for r in rows]
        lengths = np.array([len(r) for r in rows], dtype=np.int64)
        out = np.full((len(rows), int(lengths.max()) if rows else 0), self.pad, dtype=np.int64)
        for i, r in enumerate(rows):
            out[i, :len(r)] = r
        return out, lengths


def split(ids, val_fraction: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """(train, val): the first 1 - val_fraction of the ids and the rest (no shuffling: text
    is sequential, and a contiguous held-out part is the honest validation set)."""
    ids = np.asarray(ids)
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    cut = int(round(len(ids) * (1 - val_fraction)))
    return ids[:cut], ids[cut:]


def _maybe_torch(arrays, as_torch):
    if not as_torch:
        return arrays
    import torch

    return tuple(torch.from_numpy(np.ascontiguousarray(a)) for a in arrays)


def batches(ids, batch_size: int, seq_len: int, rng=None, as_torch: bool = True):
    """(x, y), each (batch_size, seq_len): random windows of `ids`; y is x shifted by one token
    (the next-token targets of a language model). rng: a numpy Generator or a seed."""
    ids = np.asarray(ids, dtype=np.int64)
    if len(ids) < seq_len + 1:
        raise ValueError(f"need at least seq_len + 1 = {seq_len + 1} ids, have {len(ids)}")
    rng = np.random.default_rng(rng)
    starts = rng.integers(0, len(ids) - seq_len, size=batch_size)
    idx = starts[:, None] + np.arange(seq_len + 1)
    win = ids[idx]
    return _maybe_torch((win[:, :-1], win[:, 1:]), as_torch)


def streams(ids, batch_size: int) -> np.ndarray:
    """The ids as batch_size parallel streams, an int64 matrix (batch_size, len // batch_size):
    row b is the b-th contiguous slice of the text (the tail that does not fit is dropped)."""
    ids = np.asarray(ids, dtype=np.int64)
    n = len(ids) // batch_size
    if n < 2:
        raise ValueError(f"{len(ids)} ids are too few for {batch_size} streams")
    return ids[:n * batch_size].reshape(batch_size, n)


def tbptt_windows(stream_matrix, seq_len: int, as_torch: bool = True):
    """Consecutive (x, y) windows of `streams(...)`, each (batch_size, seq_len), y shifted by one:
    window k+1 continues exactly where window k stopped, so a model can carry its hidden state
    across windows (truncated BPTT). The last, shorter window is dropped."""
    s = np.asarray(stream_matrix)
    for start in range(0, s.shape[1] - seq_len, seq_len):
        yield _maybe_torch((s[:, start:start + seq_len], s[:, start + 1:start + seq_len + 1]), as_torch)
