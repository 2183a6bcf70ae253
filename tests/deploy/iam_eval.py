"""A small IAM policy evaluator: enough of the real logic to judge the template's policies.

Decision for a same-account request (the AWS evaluation logic, minus SCPs, boundaries and
sessions): an explicit Deny in any identity or resource policy wins; else an Allow in the
identity policy (or in a resource policy naming the principal) allows; else it is denied.
Anything this evaluator does not implement (NotAction, NotResource, an unknown condition
operator) raises, so a policy cannot pass a test by being misunderstood.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

ALLOW, DENY, IMPLICIT = "allow", "deny", "implicit deny"


@dataclass(frozen=True)
class Request:
    """One authorization question: who asks to do what on which resource, in what context."""

    principal: str  # the role ARN (aws:PrincipalArn), or an AWS service (events.amazonaws.com)
    action: str  # service:Action
    resource: str  # ARN
    context: Mapping[str, str] = field(default_factory=dict)  # other condition keys

    def key(self, name: str) -> str | None:
        if name == "aws:PrincipalArn":  # a service principal has none
            return self.principal if self.principal.startswith("arn:") else None
        return {**TLS, **self.context}.get(name)


TLS = {"aws:SecureTransport": "true", "s3:TlsVersion": "1.3"}  # what the SDKs send


def wildcard(pattern: str, value: str, *, case: bool = True) -> bool:
    """IAM globbing: ``*`` any run of characters, ``?`` one character."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, 0 if case else re.IGNORECASE) is not None


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _string(op: str, actual: str, wanted: str) -> bool:
    if op in ("StringEquals", "ArnEquals", "Bool"):
        return actual == wanted
    if op in ("StringLike", "ArnLike"):
        return wildcard(wanted, actual)
    if op == "NumericLessThan":
        return float(actual) < float(wanted)
    raise NotImplementedError(f"condition operator {op}")


NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}


def condition_holds(condition: Mapping[str, Mapping[str, Any]], request: Request) -> bool:
    """Every operator and key must hold. A missing key fails a positive operator and
    satisfies a negated one, as in IAM."""
    for op, keys in condition.items():
        for name, wanted in keys.items():
            actual = request.key(name)
            positive = NEGATED.get(op, op)
            hit = actual is not None and any(_string(positive, actual, w) for w in as_list(wanted))
            if hit == (op in NEGATED):
                return False
    return True


def statement_matches(st: Mapping[str, Any], request: Request) -> bool:
    for unsupported in ("NotAction", "NotResource", "NotPrincipal"):
        if unsupported in st:
            raise NotImplementedError(unsupported)
    principal = st.get("Principal")
    if principal is not None and principal != "*":
        names = as_list(principal.get("AWS", [])) + as_list(principal.get("Service", []))
        if not any(wildcard(p, request.principal) for p in names):
            return False
    if not any(wildcard(a, request.action, case=False) for a in as_list(st["Action"])):
        return False
    if not any(wildcard(r, request.resource) for r in as_list(st["Resource"])):
        return False
    return condition_holds(st.get("Condition", {}), request)


def decide(
    request: Request,
    identity: Iterable[Mapping[str, Any]],
    resource: Iterable[Mapping[str, Any]] = (),
) -> str:
    """``allow``, ``deny`` (explicit) or ``implicit deny`` for ``request``."""
    statements = [s for doc in (*identity, *resource) for s in as_list(doc["Statement"])]
    matching = [s for s in statements if statement_matches(s, request)]
    if any(s["Effect"] == "Deny" for s in matching):
        return DENY
    return ALLOW if any(s["Effect"] == "Allow" for s in matching) else IMPLICIT
