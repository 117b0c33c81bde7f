"""proxy.headers.guess_content_type: mimetypes' answer for the name, from a per-suffix cache."""
import mimetypes

from hypothesis import given, strategies as st

from proxy.headers import guess_content_type

SUFFIXES = [".txt", ".TXT", ".tar.gz", ".tgz", ".svgz", ".json", ".gz", ".html", ".htm", ".jpg",
            ".Z", ".bz2", ".xz", ".br", ".unknownext", ".", ".tar", ".py", ".css", ".mp4"]


def _swift_guess(path):  # what mimetypes says for the whole request path, as Swift guesses
    guessed, _ = mimetypes.guess_type("/v1/a/c/" + path, strict=False)
    return guessed or "application/octet-stream"


@given(st.lists(st.sampled_from(["a", "b.c", "dir/", "x y", "é", "1.2", "-"]), max_size=4),
       st.lists(st.sampled_from(SUFFIXES), max_size=3))
def test_same_answer_as_mimetypes_on_the_path(stems, suffixes):
    name = "".join(stems) + "".join(suffixes)
    assert guess_content_type(name) == _swift_guess(name)


def test_examples():
    assert guess_content_type("photos/cat.JPG") == "image/jpeg"
    assert guess_content_type("backup.tar.gz") == "application/x-tar"
    assert guess_content_type("README") == "application/octet-stream"
    assert guess_content_type("dir.d/noext") == "application/octet-stream"
    # a name, not a URL: mimetypes.guess_type("data:text/html,x") would say text/html
    assert guess_content_type("data:text/html,x") == "application/octet-stream"
