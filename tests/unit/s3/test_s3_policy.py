import json

import pytest

from proxy.s3 import policy
from proxy.s3.errors import S3Error


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def request(principal="alt:alt", action="s3:GetObject", resource="arn:aws:s3:::b/k", **context):
    account = principal.split(":")[0] if principal else None
    return policy.Request(principal, account, action, resource, context)


def test_public_read_allows_anonymous_get_only():
    p = policy.parse(doc({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                          "Resource": "arn:aws:s3:::b/*"}), "b")
    assert policy.evaluate(p, request(principal=None)) == "Allow"
    assert policy.evaluate(p, request(principal=None, action="s3:PutObject")) is None
    assert policy.evaluate(p, request(resource="arn:aws:s3:::b")) is None


def test_explicit_deny_wins_over_allow():
    p = policy.parse(doc(
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"},
        {"Effect": "Deny", "Principal": {"AWS": ["alt:alt"]}, "Action": ["s3:DeleteObject"],
         "Resource": ["arn:aws:s3:::b/*"]}), "b")
    assert policy.evaluate(p, request(action="s3:DeleteObject")) == "Deny"
    assert policy.evaluate(p, request(principal="test:tester", action="s3:DeleteObject")) == "Allow"


def test_principal_forms():
    p = policy.parse(doc({"Effect": "Allow", "Principal": {"AWS": [
        "arn:aws:iam::alt:user/alt", "arn:aws:iam::other:root"]}, "Action": "s3:ListBucket",
        "Resource": "arn:aws:s3:::b"}), "b")
    assert policy.evaluate(p, request(action="s3:ListBucket", resource="arn:aws:s3:::b")) == "Allow"
    assert policy.evaluate(p, request(principal="other:someone", action="s3:ListBucket",
                                      resource="arn:aws:s3:::b")) == "Allow"
    assert policy.evaluate(p, request(principal="test:tester", action="s3:ListBucket",
                                      resource="arn:aws:s3:::b")) is None


def test_conditions():
    p = policy.parse(doc({"Effect": "Deny", "Principal": "*", "Action": "s3:*",
                          "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
                          "Condition": {"NotIpAddress": {"aws:SourceIp": "127.0.0.0/8"}}}), "b")
    assert policy.evaluate(p, request(**{"aws:sourceip": "127.0.0.1"})) is None
    assert policy.evaluate(p, request(**{"aws:sourceip": "10.1.2.3"})) == "Deny"
    p = policy.parse(doc({"Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket",
                          "Resource": "arn:aws:s3:::b",
                          "Condition": {"StringLike": {"s3:prefix": ["home/*"]}}}), "b")
    base = dict(action="s3:ListBucket", resource="arn:aws:s3:::b")
    assert policy.evaluate(p, request(**base, **{"s3:prefix": "home/x"})) == "Allow"
    assert policy.evaluate(p, request(**base, **{"s3:prefix": "etc"})) is None


def test_not_action_and_not_resource():
    p = policy.parse(doc({"Effect": "Deny", "Principal": "*", "NotAction": "s3:Get*",
                          "NotResource": "arn:aws:s3:::b/public/*"}), "b")
    assert policy.evaluate(p, request(action="s3:PutObject")) == "Deny"
    assert policy.evaluate(p, request(action="s3:GetObject")) is None
    assert policy.evaluate(p, request(action="s3:PutObject", resource="arn:aws:s3:::b/public/x")) is None


@pytest.mark.parametrize("text", [
    "not json",
    json.dumps({"Version": "2012-10-17"}),
    doc({"Effect": "Maybe", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::b"}),
    doc({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b"}),
    doc({"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::other/*"}),
    doc({"Effect": "Allow", "Principal": "*", "Action": "ec2:Run", "Resource": "arn:aws:s3:::b"}),
    doc({"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::b",
         "Condition": {"DateGreaterThanSoon": {"aws:CurrentTime": "x"}}}),
    doc({"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::b", "Oops": 1}),
    "x" * (21 * 1024),
])
def test_malformed_policies_are_refused(text):
    with pytest.raises(S3Error) as info:
        policy.parse(text, "b")
    assert info.value.code == "MalformedPolicy" and info.value.status == 400
