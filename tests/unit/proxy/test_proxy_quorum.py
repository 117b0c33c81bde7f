"""The quorum rule (proxy/quorum.py), pinned by tables."""
import pytest

from proxy import quorum


@pytest.mark.parametrize("replicas,size", [(1, 1), (2, 2), (3, 2), (4, 3), (5, 3), (6, 4)])
def test_quorum_size_is_a_strict_majority(replicas, size):
    assert quorum.quorum_size(replicas) == size


def test_quorum_size_rejects_zero():
    with pytest.raises(ValueError):
        quorum.quorum_size(0)


@pytest.mark.parametrize("statuses,replicas,expected", [
    ([201, 201, 201], 3, 201),
    ([201, 201, 503], 3, 201),          # one node down: still a quorum
    ([201, 503, 503], 3, 503),          # only one wrote: not acknowledged
    ([201, 202, 202], 3, 202),          # the most common status of the class
    ([201, 202, 503], 3, 201),          # tie inside the class: lowest status
    ([204, 404, 404], 3, 404),          # a 4xx quorum
    ([204, 204, 404], 3, 204),
    ([404, 409, 503], 3, 404),          # 4xx class has 2 members: its most common, lowest first
    ([500, 503, 201], 3, 500),          # a 5xx quorum: tie, lowest
    ([507, 507, 507], 3, 507),
    ([201, 201], 2, 201),
    ([201, 503], 2, 503),               # two replicas need both
    ([201], 1, 201),
    ([201, 201, 503, 503], 4, 503),     # four replicas need three
    ([201, 201, 201, 503], 4, 201),
    ([], 3, 503),
])
def test_best_status(statuses, replicas, expected):
    assert quorum.best_status(statuses, replicas) == expected


@pytest.mark.parametrize("etags,agree", [
    (["abc", "abc", "abc"], True),
    (['"abc"', "ABC", None], True),      # quotes, case and missing ETags ignored
    (["abc", "abd"], False),
    ([], True),
])
def test_etags_agree(etags, agree):
    assert quorum.etags_agree(etags) is agree


@pytest.mark.parametrize("statuses,etags,expected", [
    ([201, 201, 201], ["a", "a", "a"], 201),
    ([201, 201, 503], ["a", "a", None], 201),
    ([201, 201, 201], ["a", "b", "a"], 500),    # a replica stored different bytes
    ([201, 422, 422], ["a", None, None], 422),  # ETag mismatch against the client's ETag
    ([201, 503, 503], ["a", None, None], 503),
])
def test_write_outcome(statuses, etags, expected):
    assert quorum.write_outcome(statuses, etags, 3) == expected


def test_have_quorum():
    assert quorum.have_quorum([201, 201, 503], 3)
    assert not quorum.have_quorum([201, 404, 503], 3)
