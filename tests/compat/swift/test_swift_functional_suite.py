"""Issue 3 acceptance: OpenStack Swift 2.38.3's own functional suite against a fresh Strato.

Runs `test/functional` of the swift sdist (1080 tests with its s3api part) through the peers'
functests.sh against a private `strato aio --test-users` (the suite empties the test accounts, so it
never points at the session all-in-one other tests share), then asserts the pass count.
Needs the peer set-up from /work/shared/peers/swift/setup.sh (venv + sdist under /tmp/peers/swift);
skipped, with that reason, where it is absent.

Also a tool: `python tests/compat/swift/test_swift_functional_suite.py OUT_DIR` prints the per-test
table (markdown) from a run's junit xml files; docs/swift-compat.md is made from it.
"""
import collections
import glob
import os
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

PEERS = os.environ.get("STRATO_SWIFT_PEERS", "/work/shared/peers/swift")
PEER_BASE = os.environ.get("STRATO_SWIFT_PEER_BASE", "/tmp/peers/swift")
SDIST = os.path.join(PEER_BASE, "src", "swift-2.38.3")
# Issue 3: OpenStack Swift passes 1056 of 1080 here; Strato must pass at least 1000.
MIN_PASSED = int(os.environ.get("STRATO_SWIFT_FUNCTESTS_MIN", "1000"))
TOTAL = 1080
# A request the server never answers hangs the suite (its client has no timeout): bound the run.
# A subset for a quick look (space-separated, relative to the sdist); the count checks then only
# hold it to STRATO_SWIFT_FUNCTESTS_MIN.
TARGETS = os.environ.get("STRATO_SWIFT_FUNCTESTS_TARGETS", "test/functional").split()
RUN_TIMEOUT = int(os.environ.get("STRATO_SWIFT_FUNCTESTS_TIMEOUT", "2400"))
# Proxy port = 8080 + offset; the first offset whose proxy port is free is used.
OFFSETS = [int(os.environ.get("STRATO_SWIFT_FUNCTESTS_OFFSET", "4000")) + 100 * i for i in range(10)]

pytestmark = [pytest.mark.compat, pytest.mark.slow]


def outcome(tc):
    kids = {k.tag for k in tc}
    if "error" in kids:
        return "error"
    if "failure" in kids:
        return "failed"
    if "skipped" in kids:
        return "skipped"
    return "passed"


def results(out_dir):
    """{test id: (outcome, first line of the message)} from every junit xml in out_dir."""
    res = {}
    for path in sorted(glob.glob(os.path.join(out_dir, "*.xml"))):
        for tc in ET.parse(path).getroot().iter("testcase"):
            test_id = f"{tc.get('classname')}::{tc.get('name')}"
            state = outcome(tc)
            message = ""
            for kid in tc:
                if kid.tag in ("error", "failure", "skipped"):
                    message = (kid.get("message") or "").strip().splitlines()[:1]
                    message = message[0][:200] if message else ""
            # a test can fail in its call and error in teardown: keep the worst
            if test_id not in res or state in ("error", "failed"):
                res[test_id] = (state, message)
    return res


def module_of(test_id):
    """test.functional.test_slo.TestSlo::test_x -> test.functional.test_slo (the dotted path up to
    the first CamelCase part, as functests.sh counts)."""
    parts = test_id.split("::")[0].split(".")
    kept = []
    for part in parts:
        if part[:1].isupper():
            break
        kept.append(part)
    return ".".join(kept) or parts[0]


def markdown(res):
    """The run as markdown: totals, counts per module, then every test that did not pass."""
    counts = collections.Counter(state for state, _ in res.values())
    per_module = collections.defaultdict(collections.Counter)
    for test_id, (state, _) in res.items():
        per_module[module_of(test_id)][state] += 1
    lines = [f"{counts['passed']} passed, {counts['failed']} failed, {counts['error']}"
             f" errors, {counts['skipped']} skipped of {len(res)}", "",
             "| module | passed | failed | errors | skipped |", "| --- | ---: | ---: | ---: | ---: |"]
    for module, c in sorted(per_module.items()):
        lines.append(f"| {module} | {c['passed']} | {c['failed']} | {c['error']} | {c['skipped']} |")
    lines += ["", "| test | result | message |", "| --- | --- | --- |"]
    for test_id, (state, message) in sorted(res.items()):
        if state != "passed":
            lines.append(f"| {test_id} | {state} | {message.replace('|', '/')} |")
    return "\n".join(lines)


@pytest.fixture
def private_aio(tmp_path):
    if not os.path.isdir(os.path.join(SDIST, "test", "functional")):
        pytest.skip(f"peer set-up absent: run {PEERS}/setup.sh (needs {SDIST})")
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    from aiohelper import free_offset, start_aio, stop_aio
    data_dir = tmp_path / "aio"
    data_dir.mkdir()
    process, info = start_aio(data_dir, free_offset(OFFSETS), "--test-users")
    try:
        yield info
    finally:
        stop_aio(process)


@pytest.mark.timeout(RUN_TIMEOUT + 300)
def test_swift_functional_suite(private_aio, tmp_path):
    endpoint = private_aio["swift"]["auth_url"].split("/auth/")[0].split("://")[1]
    with open(os.path.join(PEERS, "saio-test.conf")) as f:
        conf = f.read().replace("127.0.0.1:8080", endpoint)
    conf_path = tmp_path / "strato-functests.conf"
    conf_path.write_text(conf)
    out_dir = tmp_path / "out"
    log_path = tmp_path / "functests.log"
    with open(log_path, "w") as log:
        # Own process group: on a hang the whole tree (bash, pytest) is stopped, not just bash.
        proc = subprocess.Popen(["bash", os.path.join(PEERS, "functests.sh"), str(conf_path),
                                 *TARGETS], env={**os.environ, "OUT": str(out_dir)},
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            proc.wait(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            pytest.fail(f"the suite did not finish in {RUN_TIMEOUT}s (a request left unanswered?); "
                        f"see {log_path} and {out_dir}")
    res = results(str(out_dir))
    report = markdown(res)
    (tmp_path / "swift-compat-results.md").write_text(report)
    print(log_path.read_text()[-3000:], report, sep="\n")
    passed = sum(1 for state, _ in res.values() if state == "passed")
    if TARGETS == ["test/functional"]:
        assert len(res) >= TOTAL, (
            f"only {len(res)} of {TOTAL} tests reported (suite crashed or hung?)")
    assert passed >= MIN_PASSED, f"{passed} of {len(res)} passed, need {MIN_PASSED}:\n{report[:20000]}"


if __name__ == "__main__":
    print(markdown(results(sys.argv[1])))
