from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medsearch.retriever.fusion import convex_fusion, reciprocal_rank_fusion


def test_rrf_hand_computed():
    bm25 = [("a", 9.0), ("b", 5.0)]
    dense = [("b", 0.9), ("c", 0.8)]
    fused = reciprocal_rank_fusion([bm25, dense], k=60)
    # a: 1/61; b: 1/62 + 1/61; c: 1/62.
    assert [doc_id for doc_id, _ in fused] == ["b", "a", "c"]
    assert fused[0][1] == pytest.approx(1 / 62 + 1 / 61)
    assert fused[1][1] == pytest.approx(1 / 61)
    assert fused[2][1] == pytest.approx(1 / 62)


def test_rrf_ties_break_by_doc_id():
    fused = reciprocal_rank_fusion([[("z", 1.0)], [("m", 1.0)]], k=60)
    assert fused == [("m", pytest.approx(1 / 61)), ("z", pytest.approx(1 / 61))]


def test_rrf_with_empty_lists():
    assert reciprocal_rank_fusion([[], []]) == []
    assert [doc for doc, _ in reciprocal_rank_fusion([[("a", 1.0), ("b", 0.5)], []])] == ["a", "b"]


def test_rrf_weights():
    fused = reciprocal_rank_fusion([[("a", 1.0)], [("b", 1.0)]], k=0, weights=[1.0, 2.0])
    assert fused == [("b", 2.0), ("a", 1.0)]


def test_rrf_rejects_bad_arguments():
    with pytest.raises(ValueError, match="k must be >= 0"):
        reciprocal_rank_fusion([[]], k=-1)
    with pytest.raises(ValueError, match="2 weights for 1"):
        reciprocal_rank_fusion([[]], weights=[1.0, 1.0])


def test_convex_normalises_each_list():
    bm25 = [("a", 10.0), ("b", 5.0), ("c", 0.0)]
    dense = [("c", 0.9), ("a", 0.5), ("b", 0.1)]
    fused = dict(convex_fusion([bm25, dense]))
    # a: 1.0 + 0.5; b: 0.5 + 0.0; c: 0.0 + 1.0
    assert fused == {"a": pytest.approx(1.5), "b": pytest.approx(0.5), "c": pytest.approx(1.0)}


def test_convex_equal_scores_do_not_divide_by_zero():
    assert convex_fusion([[("a", 2.0), ("b", 2.0)], []]) == [("a", 1.0), ("b", 1.0)]


ranked_list = st.lists(
    st.tuples(st.sampled_from("abcdefghij"), st.floats(min_value=-5, max_value=5)), max_size=10
).map(lambda pairs: list({doc: score for doc, score in pairs}.items()))


@given(st.lists(ranked_list, min_size=1, max_size=3))
def test_fusion_output_sorted_and_unique(lists):
    for fused in (reciprocal_rank_fusion(lists), convex_fusion(lists)):
        doc_ids = [doc_id for doc_id, _ in fused]
        assert len(doc_ids) == len(set(doc_ids))
        assert set(doc_ids) == {doc_id for ranked in lists for doc_id, _ in ranked}
        keys = [(-score, doc_id) for doc_id, score in fused]
        assert keys == sorted(keys)


def test_convex_weights_scale_each_list():
    bm25 = [("a", 4.0), ("b", 2.0)]
    dense = [("b", 0.8), ("a", 0.4)]
    fused = convex_fusion([bm25, dense], weights=[0.25, 0.75])
    # a: 0.25 * 1.0 + 0.75 * 0.0; b: 0.25 * 0.0 + 0.75 * 1.0
    assert fused == [("b", pytest.approx(0.75)), ("a", pytest.approx(0.25))]


unique_ranked_list = st.lists(st.sampled_from("abcdefghij"), unique=True, max_size=10).map(
    lambda doc_ids: [(doc_id, float(len(doc_ids) - rank)) for rank, doc_id in enumerate(doc_ids)]
)


@given(unique_ranked_list)
def test_rrf_of_one_list_keeps_its_order(ranked):
    assert [doc_id for doc_id, _ in reciprocal_rank_fusion([ranked])] == [doc_id for doc_id, _ in ranked]


@given(st.lists(ranked_list, min_size=1, max_size=3))
def test_fusion_ignores_list_order(lists):
    for fuse in (reciprocal_rank_fusion, convex_fusion):
        forward = dict(fuse(lists))
        backward = dict(fuse(lists[::-1]))
        assert forward.keys() == backward.keys()
        for doc_id, score in forward.items():
            assert backward[doc_id] == pytest.approx(score)


@given(st.lists(ranked_list, min_size=1, max_size=3))
def test_empty_list_changes_nothing(lists):
    for fuse in (reciprocal_rank_fusion, convex_fusion):
        assert fuse([*lists, []]) == fuse(lists)


@given(
    st.lists(ranked_list, min_size=1, max_size=3),
    st.lists(st.floats(min_value=0, max_value=3), min_size=3, max_size=3),
)
def test_convex_scores_bounded_by_weights(lists, weights):
    weights = weights[: len(lists)]
    for _, score in convex_fusion(lists, weights=weights):
        assert -1e-9 <= score <= sum(weights) + 1e-9


@given(st.lists(ranked_list, min_size=1, max_size=3), st.floats(min_value=0.1, max_value=10))
def test_scaling_all_weights_scales_scores(lists, factor):
    for fuse in (reciprocal_rank_fusion, convex_fusion):
        base = dict(fuse(lists))
        scaled = dict(fuse(lists, weights=[factor] * len(lists)))
        for doc_id, score in base.items():
            assert scaled[doc_id] == pytest.approx(score * factor)
