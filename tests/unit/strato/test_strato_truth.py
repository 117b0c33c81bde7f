"""strato.truth.is_true reads values as Swift's config_true_value does."""
from strato.truth import is_true


def test_swifts_true_values_in_any_case_and_spacing():
    for value in ("true", "1", "yes", "on", "t", "y", "TRUE", " Yes ", "T", "Y"):
        assert is_true(value), value


def test_everything_else_is_false():
    for value in (None, "", "0", "false", "no", "off", "f", "n", "truthy", "2"):
        assert not is_true(value), value


def test_callers_take_swifts_short_forms():
    # X-Static-Large-Object: t was read as a plain object before the shared rule
    from proxy import large
    assert large.is_slo({"X-Static-Large-Object": "t"})
    assert large.is_slo({"X-Static-Large-Object": "True"})
    assert not large.is_slo({"X-Static-Large-Object": "no"})


def test_bulk_upload_detects_the_content_type_on_a_short_true():
    # X-Detect-Content-Type: t kept the request's Content-Type before the shared rule
    from proxy import bulk_upload
    assert "Content-Type" not in bulk_upload.object_headers(
        {"Content-Type": "text/x", "X-Detect-Content-Type": "t"}, 0)
    assert "Content-Type" not in bulk_upload.object_headers(
        {"Content-Type": "text/x", "X-Detect-Content-Type": "Y"}, 0)
    assert bulk_upload.object_headers(
        {"Content-Type": "text/x", "X-Detect-Content-Type": "no"}, 0)["Content-Type"] == "text/x"
