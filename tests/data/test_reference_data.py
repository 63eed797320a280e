"""The shipped Big Buck Bunny trailer references: every label follows from the spans."""

import numpy as np

from tvhighlights.clips import num_clips, spans_to_labels
from tvhighlights.data.references import load_references


def test_bbb_trailer_labels_follow_from_trailer_spans():
    import json
    from importlib import resources

    text = (resources.files("tvhighlights") / "data" / "bbb_trailer.references.jsonl").read_text()
    row = json.loads(text)
    spans = [(s["start"], s["end"]) for s in row["spans"]]
    assert spans == [
        (1.0, 11.0),
        (16.0, 20.0),
        (37.0, 55.0),
        (214.75, 218.75),  # '00:03:34.75'..'00:03:56' with seconds 4-10 of it cut out
        (224.75, 236.0),
        (281.5, 284.7),  # '04:41.5'..'04:44.70'
    ]
    assert all("with_subclip" in s["trailer_py"] for s in row["spans"])
    assert row["num_clips"] == num_clips(row["duration"]) == 298
    expected = spans_to_labels(spans, row["duration"], min_overlap=1.0)
    np.testing.assert_array_equal(row["labels"], expected)
    ref = load_references("bbb-trailer")[0]
    assert int(ref.labels.sum()) == 27
