"""helpers.genssl_data: image tensors, caption ids, class prompts, the small CNN, mosaics."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from helpers import genssl_data, shapes  # noqa: E402


def test_shape_tensors_range_labels_and_determinism():
    x, y, world = genssl_data.shape_tensors(12, size=16, seed=3)
    assert x.shape == (12, 3, 16, 16) and x.dtype == torch.float32
    assert float(x.min()) >= -1 and float(x.max()) <= 1
    assert torch.equal(y, torch.from_numpy(world.labels)) and len(world.captions) == 12
    # the same pixels as the world's uint8 images, mapped 0 -> -1 and 255 -> 1
    back = ((x + 1) * 127.5).round().permute(0, 2, 3, 1).numpy().astype(np.uint8)
    assert np.array_equal(back, world.images)
    assert torch.equal(x, genssl_data.shape_tensors(12, size=16, seed=3)[0])


def test_to_unit_maps_and_clips():
    out = genssl_data.to_unit(torch.tensor([-1.0, 0.0, 1.0, 3.0, -5.0]))
    assert torch.allclose(out, torch.tensor([0.0, 0.5, 1.0, 1.0, 0.0]))


def test_caption_ids_round_trip():
    vocab = genssl_data.caption_vocab()
    caps = ["a large red star on a striped background", "a small blue ring on a plain background"]
    ids = genssl_data.caption_ids(caps, vocab)
    assert ids.dtype == torch.int64 and ids.shape[0] == 2
    assert ids[0, 0] == vocab.bos and vocab.eos in ids[0].tolist()
    assert [vocab.decode(r) for r in ids.numpy()] == caps
    with pytest.raises(ValueError, match="at least one caption"):
        genssl_data.caption_ids([], vocab)


def test_class_prompts_cover_every_combination_and_are_in_the_vocabulary():
    prompts = genssl_data.class_prompts("star")
    assert len(prompts) == len(genssl_data.SIZES) * len(shapes.COLOURS) * len(shapes.BACKGROUNDS)
    assert len(set(prompts)) == len(prompts) and all(" star on a " in p for p in prompts)
    vocab = genssl_data.caption_vocab()
    assert vocab.unk not in genssl_data.caption_ids(prompts, vocab).flatten().tolist()
    # a caption the world writes for a single shape is among the prompts of its class
    world = shapes.load_shapes(20, size=16, seed=0)
    for cap, label in zip(world.captions, world.labels):
        assert cap in genssl_data.class_prompts(world.classes[label])
    multi = shapes.load_shapes(30, size=16, seed=0, max_objects=3).captions  # "with", "and", ","
    assert vocab.unk not in genssl_data.caption_ids(multi, vocab, max_len=40).flatten().tolist()
    with pytest.raises(ValueError, match="unknown shape"):
        genssl_data.class_prompts("dragon")


def test_small_cnn_shapes_and_errors():
    net = genssl_data.small_cnn(7, width=4)
    assert net(torch.zeros(3, 3, 16, 16)).shape == (3, 7)
    assert net(torch.zeros(2, 3, 32, 32)).shape == (2, 7)  # global pooling: any size
    with pytest.raises(ValueError, match="positive"):
        genssl_data.small_cnn(0)


def test_mosaic_layout():
    imgs = torch.stack([torch.full((3, 2, 2), v) for v in (-1.0, 1.0, 0.0)])
    pic = genssl_data.mosaic(imgs, nrow=2)
    assert pic.shape == (5, 5, 3)  # 2 rows, 2 columns of 2x2 with 1-pixel gaps
    assert np.allclose(pic[0:2, 0:2], 0.0) and np.allclose(pic[0:2, 3:5], 1.0) and np.allclose(pic[3:5, 0:2], 0.5)
    assert np.allclose(pic[2], 1.0) and np.allclose(pic[3:5, 3:5], 1.0)  # gap and empty cell are white
    with pytest.raises(ValueError, match="expected"):
        genssl_data.mosaic(torch.zeros(3, 2, 2), nrow=2)


def test_show_mosaic_titles_and_labels():
    ax = genssl_data.show_mosaic(torch.zeros(4, 3, 4, 4), nrow=2, title="t", col_labels=["a", "b"],
                                 row_labels=["r1", "r2"])
    assert ax.get_title() == "t"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b"]
    matplotlib.pyplot.close("all")
