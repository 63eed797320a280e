"""The LTV-HD rows: ``mil`` trains stage 1 through the library's trainer and scores with the
model it saved, exactly as a saved model folder scores through ``predict``."""

from __future__ import annotations

import numpy as np
import pytest
from planted import make_planted
from tvhighlights.baselines import fit_baseline, get_baseline, load_baseline_data, score_data
from tvhighlights.baselines.mil import LTVHDBaseline

from tvhighlights.errors import BaselineInputError, InvalidArgumentError


def test_mil_trains_stage1_and_scores_like_its_saved_folder(tmp_path):
    dataset, features = make_planted(tmp_path, n_videos=12, test_videos=4)
    train = load_baseline_data(dataset, features, "train")
    test = load_baseline_data(dataset, features, "test")
    mil = get_baseline("mil", epochs=2, hidden_size=16, batch_size=4)
    assert mil.config.epochs == 2 and mil.config.model["hidden_size"] == 16
    fit_baseline(mil, train, work_dir=tmp_path / "work")
    folder = tmp_path / "work" / "ltvhd-stage1"
    assert (folder / "model.safetensors").is_file()
    scores = score_data(mil, test)
    assert list(scores) == [v.video_id for v in test.videos]
    for v in test.videos:
        assert scores[v.video_id].shape == (v.num_clips,)
        assert np.isfinite(scores[v.video_id]).all()
        assert scores[v.video_id].min() >= 0 and scores[v.video_id].max() <= 1

    saved = LTVHDBaseline(folder)
    saved.name = "ltvhd:saved"
    saved.fit(train)
    again = score_data(saved, test)
    for vid in scores:
        np.testing.assert_allclose(again[vid], scores[vid], rtol=1e-6, atol=1e-7)


def test_model_rows_name_what_they_lack(tmp_path):
    dataset, features = make_planted(tmp_path, n_videos=8, test_videos=2)
    train = load_baseline_data(dataset, features, "train")
    with pytest.raises(BaselineInputError, match="needs a model folder"):
        LTVHDBaseline().fit(train)
    mil = get_baseline("mil")
    train.dataset = None
    with pytest.raises(BaselineInputError, match="'mil' trains through the dataset folder"):
        mil.fit(train)
    with pytest.raises(InvalidArgumentError, match=r"'mil'.*nope"):
        get_baseline("mil", nope=1)
    with pytest.raises(InvalidArgumentError, match="epochs must be >= 1"):
        get_baseline("mil", epochs=0)
