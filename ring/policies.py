"""Storage policies, as Swift has them: each one an object ring of its own, chosen per container.

A policy is written `<index>:<name>[,<alias>...][:<replicas>][:default]` in [ring] policies,
e.g. "0:gold,Policy-0:default" and "1:silver:2". Policy 0's objects live where objects always
lived (<device>/objects/, object.ring); policy N's in <device>/objects-N/ and object-N.ring.
Names and aliases are matched case-insensitively; exactly one policy is the default (policy 0
when only one policy is given); a table without index 0 gets Swift's implicit "Policy-0".
Pure values only: no I/O.
"""
from __future__ import annotations

import dataclasses
import re

MAX_INDEX = 999
_NAME = re.compile(r"^[A-Za-z0-9-]+$")


class PolicyError(ValueError):
    """A policy table that Swift would refuse."""


@dataclasses.dataclass(frozen=True)
class StoragePolicy:
    index: int
    name: str
    aliases: tuple[str, ...] = ()   # the name first, as Swift lists them
    default: bool = False
    replicas: int | None = None      # None: the ring section's replica count

    @property
    def ring_name(self) -> str:
        """object (policy 0) or object-N: the ring file's stem, as Swift's object-N.ring.gz."""
        return ring_name(self.index)

    @property
    def names(self) -> tuple[str, ...]:
        return self.aliases or (self.name,)

    def info(self) -> dict:
        """What /info lists under swift.policies."""
        out = {"name": self.name, "aliases": ", ".join(self.names)}
        if self.default:
            out["default"] = True
        return out


def ring_name(index: int) -> str:
    return "object" if index == 0 else f"object-{index}"


def parse_spec(spec: str) -> StoragePolicy:
    parts = [p.strip() for p in spec.split(":")]
    if len(parts) < 2 or not parts[0].isdigit():
        raise PolicyError(f"{spec!r}: expected <index>:<name>[,<alias>...][:<replicas>][:default]")
    index = int(parts[0])
    if index > MAX_INDEX:
        raise PolicyError(f"{spec!r}: index above {MAX_INDEX}")
    names = tuple(n.strip() for n in parts[1].split(",") if n.strip())
    if not names:
        raise PolicyError(f"{spec!r}: a policy needs a name")
    for name in names:
        if not _NAME.match(name):
            raise PolicyError(f"{spec!r}: names may hold only letters, digits and '-': {name!r}")
        if name.lower() == "policy-0" and index != 0:
            raise PolicyError(f"{spec!r}: the name Policy-0 belongs to policy index 0")
    replicas, default = None, False
    for flag in parts[2:]:
        if flag.isdigit() and replicas is None and int(flag) >= 1:
            replicas = int(flag)
        elif flag.lower() == "default" and not default:
            default = True
        elif flag:
            raise PolicyError(f"{spec!r}: unknown option {flag!r} (a replica count or 'default')")
    return StoragePolicy(index, names[0], names, default, replicas)


class PolicyTable:
    """The cluster's policies by index and by (case-insensitive) name or alias."""

    def __init__(self, policies):
        policies = sorted(policies, key=lambda p: p.index)
        if not policies:
            raise PolicyError("at least one storage policy is needed")
        if policies[0].index != 0:
            # as Swift: policy 0 always exists (objects from before policies live there)
            policies.insert(0, StoragePolicy(0, "Policy-0", ("Policy-0",)))
        by_index, by_name = {}, {}
        for policy in policies:
            if policy.index in by_index:
                raise PolicyError(f"policy index {policy.index} is listed twice")
            by_index[policy.index] = policy
            for name in policy.names:
                if name.lower() in by_name:
                    raise PolicyError(f"policy name {name!r} is used twice")
                by_name[name.lower()] = policy
        defaults = [p for p in policies if p.default]
        if len(defaults) > 1:
            raise PolicyError("more than one default policy: "
                              + ", ".join(p.name for p in defaults))
        if not defaults:
            if len(policies) > 1:
                raise PolicyError("several policies and none marked default")
            policies[0] = dataclasses.replace(policies[0], default=True)
            by_index[policies[0].index] = policies[0]
            for name in policies[0].names:
                by_name[name.lower()] = policies[0]
        self.policies: tuple[StoragePolicy, ...] = tuple(policies)
        self._by_index = by_index
        self._by_name = by_name
        self.default = next(p for p in self.policies if p.default)

    @classmethod
    def parse(cls, specs: list[str]) -> "PolicyTable":
        return cls(parse_spec(s) for s in specs)

    def __iter__(self):
        return iter(self.policies)

    def __len__(self) -> int:
        return len(self.policies)

    def get_by_index(self, index) -> StoragePolicy | None:
        try:
            return self._by_index.get(int(index))
        except (TypeError, ValueError):
            return None

    def get_by_name(self, name: str) -> StoragePolicy | None:
        return self._by_name.get(name.strip().lower())

    def info(self) -> list[dict]:
        return [p.info() for p in self.policies]


def check_specs(specs: list[str]) -> str | None:
    """The configuration check: a reason when the table is bad, else None."""
    try:
        PolicyTable.parse(specs)
    except PolicyError as exc:
        return str(exc)
    return None


def from_config(config) -> PolicyTable:
    return PolicyTable.parse(config.ring.policies)


def replicas_of(policy: StoragePolicy, ring_replicas: int) -> int:
    """A policy's replica count, capped by the ring section's (the all-in-one's device budget:
    a one-device test cluster with replicas = 1 still builds every policy's ring)."""
    return min(policy.replicas or ring_replicas, ring_replicas)
