"""Configuration: one TOML file (stdlib tomllib) over documented defaults, then environment overrides.

Each service package declares its own section in `<package>/settings.py` as `SECTION = Section(...)`;
this module gathers them (SECTION_MODULES), so a key is documented where it is used. An unknown
section or key, or a bad value, raises ConfigError naming the key and the reason; the command line
turns that into a one-line message and a non-zero exit before anything starts.

Environment overrides: STRATO_<SECTION>_<KEY>=value (upper case), parsed by the field's type.
"""
from __future__ import annotations

import dataclasses
import importlib
import os
import tomllib
from typing import Any, Callable

# The packages whose settings.py declares a section, in documentation order.
SECTION_MODULES = [
    "strato.settings",
    "ring.settings",
    "objectserver.settings",
    "proxy.settings",
    "proxy.s3.settings",
    "identity.settings",
    "blockserver.settings",
    "blockserver.iscsi.settings",
    "compute.settings",
    "network.settings",
]


class ConfigError(ValueError):
    """A configuration problem, with the dotted key it concerns."""

    def __init__(self, key: str, reason: str):
        super().__init__(f"configuration error: {key}: {reason}")
        self.key = key
        self.reason = reason


@dataclasses.dataclass(frozen=True)
class Field:
    """One key: its type, default, meaning, and optional bounds or choices.

    kind is one of str, int, float, bool, list (of str), secret (str, generated when empty).
    port=True marks a TCP port that --port-offset shifts.
    """

    kind: str
    default: Any
    doc: str
    min: float | None = None
    max: float | None = None
    choices: tuple | None = None
    port: bool = False
    check: Callable[[Any], str | None] | None = None  # returns a reason when the value is bad

    def parse(self, key: str, value: Any, from_env: bool = False) -> Any:
        if from_env:
            value = _parse_env(key, self.kind, value)
        value = _coerce(key, self.kind, value)
        if self.min is not None and value < self.min:
            raise ConfigError(key, f"{value!r} is below the minimum {self.min:g}")
        if self.max is not None and value > self.max:
            raise ConfigError(key, f"{value!r} is above the maximum {self.max:g}")
        if self.choices is not None and value not in self.choices:
            raise ConfigError(key, f"{value!r} is not one of {', '.join(map(str, self.choices))}")
        if self.check is not None:
            reason = self.check(value)
            if reason:
                raise ConfigError(key, reason)
        return value


@dataclasses.dataclass(frozen=True)
class Section:
    name: str
    doc: str
    fields: dict[str, Field]


def _coerce(key: str, kind: str, value: Any) -> Any:
    if kind in ("str", "secret"):
        if not isinstance(value, str):
            raise ConfigError(key, f"expected a string, got {type(value).__name__}")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise ConfigError(key, f"expected true or false, got {value!r}")
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(key, f"expected an integer, got {value!r}")
        return value
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(key, f"expected a number, got {value!r}")
        return float(value)
    if kind == "list":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(key, f"expected a list of strings, got {value!r}")
        return list(value)
    raise AssertionError(f"unknown field kind {kind}")


def _parse_env(key: str, kind: str, text: str) -> Any:
    try:
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
        if kind == "bool":
            lowered = text.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError(text)
        if kind == "list":
            return [item.strip() for item in text.split(",") if item.strip()]
    except ValueError:
        raise ConfigError(key, f"environment value {text!r} is not a valid {kind}") from None
    return text


def schema() -> dict[str, Section]:
    """Every declared section, by name."""
    sections = {}
    for module_name in SECTION_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name not in (module_name, module_name.rsplit(".", 1)[0]):
                raise
            continue
        section = module.SECTION
        sections[section.name] = section
    return sections


class SectionValues:
    """Attribute access to one section's resolved values. The values are plain instance
    attributes: request paths read them per request, and a read through __getattr__ cost
    ~0.3 us; __getattr__ is left for a key the section does not have."""

    def __init__(self, name: str, values: dict[str, Any]):
        self._name = name
        self._values = dict(values)
        self.__dict__.update(self._values)

    def __getattr__(self, key: str) -> Any:
        raise AttributeError(f"{self._name}.{key}")

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def as_dict(self) -> dict[str, Any]:
        return dict(self._values)


class Config:
    """Resolved configuration: `config.proxy.port`, `config["proxy"]["port"]`, `config.as_dict()`."""

    def __init__(self, values: dict[str, dict[str, Any]]):
        self._sections = {name: SectionValues(name, v) for name, v in values.items()}

    def __getattr__(self, name: str) -> SectionValues:
        try:
            return self._sections[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name: str) -> SectionValues:
        return self._sections[name]

    def as_dict(self) -> dict[str, dict[str, Any]]:
        return {name: s.as_dict() for name, s in self._sections.items()}


def load(path: str | list[str] | None = None, *, overrides: dict | None = None, environ: dict | None = None,
         port_offset: int = 0) -> Config:
    """Defaults, then the TOML file(s) at `path` in order, then `overrides` (same shape), then the
    environment.

    port_offset is added to every port field that was not set explicitly by the file, overrides or
    environment, so two all-in-ones can run side by side.
    """
    sections = schema()
    layers: list[tuple[str, dict]] = []
    paths = [] if path is None else [path] if isinstance(path, str) else list(path)
    for one in paths:
        try:
            with open(one, "rb") as f:
                layers.append((str(one), tomllib.load(f)))
        except FileNotFoundError:
            raise ConfigError(str(one), "configuration file not found") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(str(one), f"not valid TOML: {exc}") from None
    if overrides:
        layers.append(("overrides", overrides))

    values = {name: {k: f.default for k, f in s.fields.items()} for name, s in sections.items()}
    explicit: set[tuple[str, str]] = set()
    for _origin, data in layers:
        for section_name, body in data.items():
            if section_name not in sections:
                raise ConfigError(section_name, f"unknown section (known: {', '.join(sections)})")
            if not isinstance(body, dict):
                raise ConfigError(section_name, "expected a table of keys")
            fields = sections[section_name].fields
            for key, raw in body.items():
                dotted = f"{section_name}.{key}"
                if key not in fields:
                    raise ConfigError(dotted, "unknown key")
                values[section_name][key] = fields[key].parse(dotted, raw)
                explicit.add((section_name, key))

    env = os.environ if environ is None else environ
    for section_name, section in sections.items():
        for key, field in section.fields.items():
            env_name = f"STRATO_{section_name}_{key}".upper()
            if env_name in env:
                values[section_name][key] = field.parse(env_name, env[env_name], from_env=True)
                explicit.add((section_name, key))

    if port_offset:
        for section_name, section in sections.items():
            for key, field in section.fields.items():
                if field.port and (section_name, key) not in explicit:
                    values[section_name][key] = field.parse(
                        f"{section_name}.{key}", values[section_name][key] + port_offset)
    return Config(values)


def reference() -> str:
    """The documented defaults as a TOML text (for `strato config defaults` and the README)."""
    lines = []
    for section in schema().values():
        lines.append(f"# {section.doc}")
        lines.append(f"[{section.name}]")
        for key, field in section.fields.items():
            lines.append(f"# {field.doc}")
            lines.append(f"{key} = {_toml_value(field.default)}")
        lines.append("")
    return "\n".join(lines)


def _toml_value(value: Any) -> str:
    import tomli_w

    return tomli_w.dumps({"v": value}).split("=", 1)[1].strip()


def dump(config: Config, path: str) -> None:
    """Write the resolved configuration as TOML (what `strato aio` hands its children)."""
    import tomli_w

    tmp = f"{path}.tmp"
    with open(tmp, "wb") as f:
        tomli_w.dump(config.as_dict(), f)
    os.replace(tmp, path)
