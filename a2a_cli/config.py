"""Settings from `a2a.toml` profiles, `A2A_*` environment variables and flags (DESIGN §4).

Precedence, lowest first: built-in defaults < the file's `[default]` < `[profiles.NAME]` <
`A2A_SECTION_KEY` environment variables < command-line flags. `SCHEMA` is the single source of
truth: defaults, validation, `a2a config show` and the starter file of `a2a config init` all come
from it, so adding a setting is one line there. Every mistake is an `InputError` that names the
file (or variable), the key and what was expected, because a typo in a config must never be
silently ignored.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import textwrap
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from a2a_cli.errors import InputError
from a2a_cli.motion.format_names import FORMATS as MOTION_FORMATS
from a2a_cli.style_names import DANCE_STYLES, DSG_STYLES, GESTURE_STYLES, STYLE_CHOICES, STYLE_NAMES
from a2a_cli.tasks import AUTO as AUTO_TASK
from a2a_cli.tasks import DANCE, TASK_CHOICES, TASKS

__all__ = [
    "APP_NAME", "CONFIG_FILE_NAME", "ENV_PREFIX", "KEYS", "Key", "PRECISIONS", "RETIRED_KEYS", "SCHEMA", "Settings",
    "default_cache_dir", "default_data_dir", "load_settings", "section_defaults", "starter_toml",
    "toml_literal", "user_config_path", "write_starter_config",
]

# The arithmetic a learned generator may run in: float32 gives its official numbers; bfloat16 (matrix
# products and attention, under torch.autocast) about halves the time where the hardware has it.
PRECISIONS = ("fp32", "bf16")

CONFIG_FILE_NAME = "a2a.toml"
APP_NAME = "a2a"
ENV_PREFIX = "A2A_"


@dataclass(frozen=True)
class Key:
    """One setting: its type (str, int, float, bool, or list for a list of strings), default and help;
    `choices` limit a string, or each item of a list; `min` and `max` bound a number (every numeric
    setting has both: a value no machine could honour is an input error, not a crash later)."""

    type: type
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None


MiB = 1024 * 1024
MAX_REQUEST_BYTES = 48 * MiB  # chain.protocol.MAX_REQUEST_BYTES (a test keeps them equal; importing it here would load pydantic)

SCHEMA: dict[str, dict[str, Key]] = {
    "general": {
        "data_dir": Key(str, "", 'Where models, the sim chain and validator state live; "" means the user data dir.'),
        "cache_dir": Key(str, "", 'Where audio features and downloads are cached (also $A2A_GENERAL_CACHE_DIR, as every key has its variable); "" means the user cache dir.'),
        "log_level": Key(str, "info", "How much to log.", choices=("debug", "info", "warning", "error")),
    },
    "audio": {
        "cache": Key(bool, True, "Cache audio features by the audio's sha256, so a second run skips the analysis."),
    },
    "generate": {
        "task": Key(str, AUTO_TASK, "What to make of the audio: auto (speech is gestured to, music danced to), dance or gesture.",
                    choices=TASK_CHOICES),
        "model": Key(str, "library", "Dance generator to use: `library` (real human motion joined to the song; the most "
                     "human-like, see the README) and `choreo` need no weights and no GPU, `edge` needs both."),
        "gesture_model": Key(str, "orator", "Gesture generator for speech (`orator` needs no weights and no GPU; `dsg` is "
                             "DiffuseStyleGesture: torch, transformers and weights)."),
        "seed": Key(int, 0, "Random seed: same audio, seed and model give the same motion.", min=0, max=2**32 - 1),
        "style": Key(str, "auto", '"auto" reads the style from the audio; or a dance style of `choreo` '
                     f"({', '.join(STYLE_NAMES)}) or of the motion library's clips ({', '.join(DANCE_STYLES)}, those "
                     f"it has), or a gesture style of `orator` ({', '.join(GESTURE_STYLES)}) or of `dsg` "
                     f"({', '.join(DSG_STYLES)}).", choices=(*STYLE_CHOICES, *GESTURE_STYLES, *DSG_STYLES)),
        "library": Key(str, "", 'Motion library of the `library` model: a folder of real dance (AIST++ .pkl, AMASS .npz, BVH, '
                       'a2a .npy/.npz; indexed once, cached beside it) or an index .npz; "" means the shipped one (CMU salsa).'),
        "formats": Key(list, ["npy"], f"Motion files to write, any of {', '.join(MOTION_FORMATS)}.", choices=MOTION_FORMATS),
        "out_dir": Key(str, "", 'Folder for generated files; "" means beside the audio file.'),
        "weights": Key(str, "", 'Checkpoint of the learned dance model (edge: .pt in EDGE\'s layout or .safetensors); "" means the '
                       "downloaded one."),
        "gesture_weights": Key(str, "", "Checkpoint of the learned gesture model (dsg: the official model000450000.pt or "
                               '.safetensors); "" means the downloaded one. Apart from generate.weights, so that a miner '
                               "serving edge and dsg gives each its own file."),
        "steps": Key(int, 50, "Diffusion sampling steps of a learned model (edge: DDIM, 50 as EDGE; dsg: 1000, its official "
                     "sampler, unless set: fewer run DDIM).", min=1, max=1000),
        "guidance": Key(float, 2.0, "Classifier-free guidance weight of a learned model (edge: 2 as EDGE).", min=0.0, max=100.0),
        "device": Key(str, "cpu", 'Where a learned model runs: "cpu", "cuda" or "cuda:N".'),
        "precision": Key(str, "fp32", 'Arithmetic of a learned model: "fp32" (the official numbers) or "bf16" (about 2x '
                         "faster on GPUs and on CPUs with AVX-512 BF16 or AMX, slower on others; the dance differs).",
                         choices=PRECISIONS),
    },
    "score": {
        "reference_stats": Key(str, "", 'FID reference statistics (.npz from `a2a score --build-reference`); "" skips FID.'),
        "json": Key(bool, False, "Print machine-readable JSON instead of tables."),
    },
    "chain": {
        # netuid 25: the original A2A subnet was SN25 on finney (../shared/reference/original-subnet.md).
        "network": Key(str, "finney", "Bittensor network: finney, test, local (a subtensor node at ws://127.0.0.1:9944), "
                       "a ws:// URL, or sim (a2a's offline chain in a file: the whole subnet on this machine, no TAO)."),
        "netuid": Key(int, 25, "Subnet uid (the original A2A subnet was 25 on finney).", min=0, max=65535),
        "wallet_name": Key(str, "default", "Bittensor wallet (coldkey) name."),
        "wallet_hotkey": Key(str, "default", "Hotkey name inside the wallet."),
        "wallet_path": Key(str, "~/.bittensor/wallets", "Folder holding the wallets."),
        "sim_block_seconds": Key(float, 12.0, "Seconds per block of the sim chain, fixed when its file is first made (finney: 12).", min=0.001, max=3600.0),
    },
    "miner": {
        "tasks": Key(list, [DANCE], "Tasks this miner serves (validators send it only these): dance with generate.model "
                     "(--model), gesture with generate.gesture_model.", choices=TASKS),
        "host": Key(str, "", 'Address the miner\'s HTTP server binds to; "" means 127.0.0.1 on sim and local, 0.0.0.0 otherwise.'),
        "port": Key(int, 8091, "Port the miner serves on (0: any free port).", min=0, max=65535),
        "max_concurrency": Key(int, 2, "Requests generated at the same time.", min=1, max=1024),
        "max_queue": Key(int, 16, "Requests waiting beyond those; more get HTTP 429.", min=0, max=100_000),
        "timeout_s": Key(float, 60.0, "Deadline for one request, in seconds.", min=0.1, max=3600.0),
        "max_request_bytes": Key(int, 16 * MiB, "Largest request body accepted (HTTP 413 beyond).", min=1024,
                                 max=MAX_REQUEST_BYTES),
        "min_stake": Key(float, 100.0, "Callers with less stake are refused (HTTP 403). In the subnet's alpha: the stake weight "
                         "the chain uses for validator permits (alpha stake + TAO stake x the chain's TAO weight).", min=0.0, max=1e15),
        "require_validator_permit": Key(bool, False, "Refuse callers without a validator permit."),
        "allow_audio_urls": Key(bool, False, "Accept prompts whose audio is a URL to fetch (public http(s) only)."),
        "allow_private_urls": Key(bool, False, "Also fetch audio URLs on private and loopback addresses (local setups only)."),
        "url_max_bytes": Key(int, 32 * MiB, "Largest audio file fetched from a URL.", min=1024, max=1024 * MiB),
        "url_timeout_s": Key(float, 10.0, "Deadline for fetching audio from a URL, in seconds.", min=0.1, max=600.0),
        "external_ip": Key(str, "", 'Address advertised on chain for validators to call; "" means the bound host (127.0.0.1 on sim and local).'),
        "signature_max_age_s": Key(float, 10.0, "How old a signed request may be beyond the wait its validator signed (at most "
                                   "timeout_s), in seconds: clock differences and the network.", min=1.0, max=600.0),
        "metagraph_ttl_s": Key(float, 0.0, "Seconds between re-reads of who may call; 0 means automatic: 2 s on sim and local, 60 s otherwise.", min=0.0, max=3600.0),
        "headers_timeout_s": Key(float, 10.0, "A connection that has not sent its request headers within this many seconds is closed.", min=0.1, max=600.0),
        "max_pending_connections": Key(int, 512, "Connections waiting for their headers; past this the oldest of the client address "
                                       "holding the most is closed.", min=1, max=1_000_000),
        "max_connections": Key(int, 2048, "Connections without an authenticated request at once; past this the oldest of the client "
                               "address holding the most is closed.", min=1, max=1_000_000),
        "keyless_rate": Key(float, 50.0, "Connections and unauthenticated requests per second one client address (IPv6: /64) may make "
                            "once its burst is spent; beyond, its connections are closed on arrival. Authenticated requests are free.",
                            min=0.1, max=1_000_000.0),
        "keyless_burst": Key(int, 400, "Connections and unauthenticated requests one client address may make at once before "
                             "keyless_rate applies.", min=1, max=1_000_000),
        "send_timeout_s": Key(float, 20.0, "An answer whose bytes cannot move for this many seconds (its client reads nothing) "
                              "is dropped with its connection.", min=0.1, max=600.0),
        "keep_alive_s": Key(float, 5.0, "An idle keep-alive connection is closed after this many seconds.", min=0.1, max=600.0),
        "body_timeout_s": Key(float, 15.0, "Deadline for receiving a request body, in seconds (HTTP 408 beyond).", min=0.1, max=3600.0),
        "body_grace_s": Key(float, 2.0, "Seconds before a request body's minimum rate applies.", min=0.0, max=600.0),
        "body_min_rate": Key(int, 32 * 1024, "Slowest request body accepted, in bytes per second on average (HTTP 408 below).", min=1, max=1024 * MiB),
        "body_pool_requests": Key(int, 1024, "Request bodies received at once from authenticated callers (1/16 per hotkey).", min=1, max=1_000_000),
        "body_pool_bytes": Key(int, 128 * MiB, "Bytes of such bodies held at once (a quarter per hotkey).", min=1024, max=64 * 1024 * MiB),
    },
    "validator": {
        "library": Key(str, "", "Folder of prompt audio, with optional reference dances of the same stem."),
        "challenge_url": Key(str, "", 'Endpoint to fetch each prompt from instead of the library; "" uses the library.'),
        "sample_size": Key(int, 16, "Miners queried per step.", min=1, max=4096),
        "timeout_s": Key(float, 60.0, "How long to wait for a miner's answer, in seconds.", min=0.1, max=3600.0),
        "alpha": Key(float, 0.1, "Weight of the newest score in each miner's moving average.", min=0.001, max=1.0),
        "weights_interval_blocks": Key(int, 100, "Blocks between two weight settings.", min=1, max=10_000_000),
        "state_path": Key(str, "", 'Validator state file (the moving averages); "" means a file in the data dir.'),
        "dry_run": Key(bool, False, "Score miners but never set weights on the chain."),
        # One share per task (a2a_cli.tasks; a test keeps them in step): README "Tasks and weights".
        "dance_share": Key(float, 0.7, "Part of this validator's weights paid for dance. Shares are relative, over the tasks "
                           "someone earned in; within a task, miners split its part by their average.", min=0.0, max=1.0),
        "gesture_share": Key(float, 0.3, "Part of this validator's weights paid for gesture (see dance_share); 0 stops "
                             "gesture prompts.", min=0.0, max=1.0),
    },
}

_EXPECTED = {str: "a string", int: "an integer", float: "a number", bool: "true or false", list: "a list of strings"}
_ENV_TRUE = {"1", "true", "yes", "on"}
_ENV_FALSE = {"0", "false", "no", "off"}


def _env_name(key: str) -> str:
    return ENV_PREFIX + key.replace(".", "_").upper()


def _flag_name(key: str) -> str:
    return "--" + key.split(".", 1)[1].replace("_", "-")


# Every dotted key, and the two other names that reach it: A2A_SECTION_KEY and section_key (for flags).
KEYS: dict[str, Key] = {f"{section}.{name}": spec for section, keys in SCHEMA.items() for name, spec in keys.items()}
_BY_ENV_NAME = {_env_name(key): key for key in KEYS}
_BY_FLAT_NAME = {key.replace(".", "_"): key for key in KEYS}
# Settings that were removed, with why: a file or variable that still sets one gets this reason
# instead of a guess at a similar name (an unknown key stays an error, as every unknown key is).
RETIRED_KEYS = {
    "generate.fps": "a2a's dances are always 30 fps (a2a_cli.frame_rate; the judge and the subnet use that rate); remove it",
}
_RETIRED_BY_ENV_NAME = {_env_name(key): key for key in RETIRED_KEYS}


def section_defaults(section: str) -> dict[str, Any]:
    """{key: built-in default} of one `SCHEMA` section ("miner"), for code whose own defaults must be these."""
    return {name: list(spec.default) if spec.type is list else spec.default for name, spec in SCHEMA[section].items()}


def user_config_path() -> Path:
    """The config file in the user config dir (looked up last, after ./a2a.toml)."""
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME)) / CONFIG_FILE_NAME


def default_data_dir() -> Path:
    """The user data dir (platformdirs): downloaded models, the sim chain, validator state."""
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME))


def default_cache_dir() -> Path:
    """The user cache dir (platformdirs): audio feature caches, safe to delete."""
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP_NAME))


@dataclass(frozen=True)
class Settings:
    """The effective settings, and where each value came from."""

    values: Mapping[str, Any]
    sources: Mapping[str, str]
    profile: str | None = None
    path: Path | None = None  # the config file read, if any
    # What is wrong in the file's profiles that were not chosen, one line each: they cannot break a
    # command run with another profile, but `a2a config show` refuses them and commands warn.
    other_profile_problems: tuple[str, ...] = ()

    def get(self, key: str) -> Any:
        """The value of a dotted key ("generate.model"); lists come back as fresh copies."""
        value = self.values[_known_key(key)]
        return list(value) if isinstance(value, list) else value

    def source(self, key: str) -> str:
        """Where the value came from: "default", "<file> [default]", "<file> [profiles.NAME]", "env A2A_...", "flag --..."."""
        return self.sources[_known_key(key)]

    def section(self, name: str) -> dict[str, Any]:
        """The effective values of one settings section (`name`, e.g. "generate"), key -> value."""
        if name not in SCHEMA:
            raise KeyError(f"unknown settings section {name!r}{_did_you_mean(name, SCHEMA)}")
        return {key: self.get(f"{name}.{key}") for key in SCHEMA[name]}

    def as_dict(self) -> dict[str, dict[str, Any]]:
        """Every section's effective values, section -> key -> value."""
        return {name: self.section(name) for name in SCHEMA}

    def items(self) -> Iterator[tuple[str, Any, str]]:
        """(dotted key, value, source) for every setting, in schema order."""
        for key in KEYS:
            yield key, self.get(key), self.sources[key]

    @property
    def data_dir(self) -> Path:
        value = self.get("general.data_dir")
        return Path(value).expanduser() if value else default_data_dir()

    @property
    def cache_dir(self) -> Path:
        value = self.get("general.cache_dir")
        return Path(value).expanduser() if value else default_cache_dir()

    @property
    def audio_cache_dir(self) -> Path | None:
        """Where `a2a_cli.audio.analyze` caches analyses: a folder of the cache dir, or None when audio.cache is off."""
        return self.cache_dir / "features" if self.get("audio.cache") else None


def load_settings(
    config_path: str | os.PathLike | None = None,
    profile: str | None = None,
    flags: Mapping[str, Any] | None = None,
    flag_names: Mapping[str, str] | None = None,
) -> Settings:
    """Merge the layers of DESIGN §4 into one validated `Settings`.

    `config_path` (else $A2A_CONFIG) names a file that must exist; without one, ./a2a.toml and then
    the user config dir are tried. `profile` (else $A2A_PROFILE) selects `[profiles.NAME]`. `flags`
    maps dotted keys ("generate.model") or flat ones ("generate_model") to values; None means the
    flag was not given. `flag_names` names the command's flag for a dotted key whose flag is not
    --<key name> ({"validator.timeout_s": "--timeout"}), so messages name a flag that exists.
    """
    values = {key: list(spec.default) if spec.type is list else spec.default for key, spec in KEYS.items()}
    sources = dict.fromkeys(KEYS, "default")
    profile = profile or os.environ.get("A2A_PROFILE") or None
    path = _find_config_file(config_path)

    layers: list[tuple[str, dict[str, Any]]] = []
    problems: tuple[str, ...] = ()
    if path is not None:
        file_layers, problems = _file_layers(path, profile)
        layers += file_layers
    elif profile is not None:
        raise InputError(f"profile {profile!r} was asked for, but no config file was found (looked for ./{CONFIG_FILE_NAME} and {user_config_path()})")
    layers += _env_layers(os.environ)
    layers += _flag_layers(flags or {}, flag_names or {})
    for source, layer in layers:
        values.update(layer)
        sources.update(dict.fromkeys(layer, source))
    return Settings(values=values, sources=sources, profile=profile, path=path, other_profile_problems=problems)


def _find_config_file(config_path: str | os.PathLike | None) -> Path | None:
    explicit = config_path if config_path not in (None, "") else os.environ.get("A2A_CONFIG") or None
    if explicit is not None:
        path = Path(explicit).expanduser().absolute()
        if not path.exists():
            raise InputError(f"config file not found: {path}")
        return path
    for candidate in (Path(CONFIG_FILE_NAME), user_config_path()):
        if candidate.is_file():
            return candidate.absolute()
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise InputError(f"cannot read config file {path}: {e.strerror or e}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"config file {path} is not UTF-8 text (bad byte at offset {e.start})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"bad TOML in {path}: {e}") from None
    except RecursionError:  # tomllib parses nested arrays and tables recursively
        raise InputError(f"bad TOML in {path}: arrays or tables nested too deeply") from None


def _file_layers(path: Path, profile: str | None) -> tuple[list[tuple[str, dict[str, Any]]], tuple[str, ...]]:
    """([default] and the chosen profile, each validated: a mistake there is an InputError), and
    the problems of the other profiles, each validated too, so a typo anywhere is caught."""
    doc = _read_toml(path)
    for name in doc:
        if name not in ("default", "profiles"):
            raise InputError(f"unknown table [{name}] in {path}: expected only [default] and [profiles.NAME]{_did_you_mean(name, ('default', 'profiles'))}")
    default = _validate_table(doc.get("default", {}), path, "default")
    profiles = doc.get("profiles", {})
    if not isinstance(profiles, dict):
        raise InputError(f"'profiles' in {path} must be a table of [profiles.NAME] tables, got {_toml_type(profiles)}")
    if profile is not None and profile not in profiles:
        known = ", ".join(sorted(profiles)) or "none"
        raise InputError(f"profile {profile!r} not found in {path} (profiles there: {known}){_did_you_mean(profile, profiles)}")

    layers = [(f"{path} [default]", default)]
    problems = []
    for name, table in profiles.items():
        if name == profile:
            layers.append((f"{path} [profiles.{profile}]", _validate_table(table, path, f"profiles.{name}")))
            continue
        try:
            _validate_table(table, path, f"profiles.{name}")
        except InputError as e:
            problems.append(str(e))
    return layers, tuple(problems)


def _validate_table(table: Any, path: Path, name: str) -> dict[str, Any]:
    """A `[default]` or `[profiles.NAME]` table as {dotted key: checked value}."""
    where = f"{path} [{name}]"
    if not isinstance(table, dict):
        raise InputError(f"[{name}] in {path} must be a table of sections, got {_toml_type(table)}")
    values = {}
    for section, keys in table.items():
        if section not in SCHEMA:
            raise InputError(f"unknown section {section!r} in {where}{_did_you_mean(section, SCHEMA)}")
        if not isinstance(keys, dict):
            raise InputError(f"{section!r} in {where} must be a table ([{name}.{section}]), got {_toml_type(keys)}")
        for key, value in keys.items():
            dotted = f"{section}.{key}"
            if dotted in RETIRED_KEYS:
                raise InputError(f"{dotted!r} in {where} is no longer a setting: {RETIRED_KEYS[dotted]}")
            if key not in SCHEMA[section]:
                raise InputError(f"unknown key {dotted!r} in {where}{_did_you_mean(dotted, KEYS)}")
            values[dotted] = _check(dotted, value, f"in {where}")
    return values


def _env_layers(environ: Mapping[str, str]) -> list[tuple[str, dict[str, Any]]]:
    """One layer per A2A_SECTION_KEY variable; a misspelt key under a known section is an error."""
    layers = []
    section_prefixes = tuple(f"{ENV_PREFIX}{section.upper()}_" for section in SCHEMA)
    for name in sorted(environ):
        key = _BY_ENV_NAME.get(name)
        if name in _RETIRED_BY_ENV_NAME:
            raise InputError(f"environment variable {name} sets {_RETIRED_BY_ENV_NAME[name]!r}, which is no longer a setting: "
                             f"{RETIRED_KEYS[_RETIRED_BY_ENV_NAME[name]]}")
        if key is None:
            if name.startswith(section_prefixes):
                raise InputError(f"unknown setting in environment variable {name}{_did_you_mean(name, _BY_ENV_NAME)}")
            continue
        try:
            value = _parse_env(KEYS[key].type, environ[name])
        except ValueError:
            raise InputError(f"{name}={environ[name]!r}: expected {_EXPECTED[KEYS[key].type]} for {key}{_env_hint(KEYS[key].type)}") from None
        layers.append((f"env {name}", {key: _check(key, value, f"from {name}")}))
    return layers


def _flag_layers(flags: Mapping[str, Any], flag_names: Mapping[str, str]) -> list[tuple[str, dict[str, Any]]]:
    layers = []
    for name, value in flags.items():
        if value is None:
            continue
        key = name if name in KEYS else _BY_FLAT_NAME.get(name)
        if key is None:  # a bug in the calling command, not a user mistake
            raise KeyError(f"unknown setting {name!r} passed as a flag{_did_you_mean(name, KEYS)}")
        if isinstance(value, tuple):
            value = list(value)
        if isinstance(value, os.PathLike):
            value = os.fspath(value)
        flag = flag_names.get(key) or _flag_name(key)
        layers.append((f"flag {flag}", {key: _check(key, value, f"from {flag}")}))
    return layers


def _parse_env(kind: type, text: str) -> Any:
    """Text of an environment variable as a value of `kind`; ValueError when it is not one."""
    if kind is str:
        return text
    if kind is bool:
        word = text.strip().lower()
        if word in _ENV_TRUE or word in _ENV_FALSE:
            return word in _ENV_TRUE
        raise ValueError(text)
    if kind is list:
        return [item.strip() for item in text.split(",") if item.strip()]
    return kind(text.strip())


def _env_hint(kind: type) -> str:
    return {bool: " (1/0, true/false, yes/no, on/off)", list: " (comma-separated)"}.get(kind, "")


def _check(key: str, value: Any, where: str) -> Any:
    """`value` checked against the schema (type, choices, bounds); ints are accepted for floats, and
    a choice is matched in any case and kept in the schema's (lower case)."""
    spec = KEYS[key]

    def fail(expected: str) -> InputError:
        return InputError(f"{key}: expected {expected}, got {value!r} ({_toml_type(value)}) {where}")

    kind = spec.type
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if kind is list:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise fail(_EXPECTED[list])
    elif not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise fail(_EXPECTED[kind])
    if kind is float and not math.isfinite(value):
        raise fail("a finite number")
    if spec.choices:  # in any case, as given: NPZ is npz, HOUSE is house
        unknown = [item for item in (value if kind is list else [value]) if item.lower() not in spec.choices]
        if unknown:
            raise InputError(f"{key}: expected one of {', '.join(spec.choices)}, got {unknown[0]!r} {where}")
        value = [item.lower() for item in value] if kind is list else value.lower()
    if spec.min is not None and value < spec.min:
        raise fail(f"{_EXPECTED[kind]} >= {spec.min:g}")
    if spec.max is not None and value > spec.max:
        raise fail(f"{_EXPECTED[kind]} <= {spec.max:g}")
    return value


def _toml_type(value: Any) -> str:
    for kind, name in ((bool, "boolean"), (int, "integer"), (float, "float"), (str, "string"), (list, "array"), (dict, "table")):
        if isinstance(value, kind):
            return name
    return type(value).__name__


def _known_key(key: str) -> str:
    if key not in KEYS:
        raise KeyError(f"unknown setting {key!r}{_did_you_mean(key, KEYS)}")
    return key


def _did_you_mean(name: str, options: Any) -> str:
    close = difflib.get_close_matches(name, list(options), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def toml_literal(value: Any) -> str:
    """A value written as TOML, as `config init` writes it and `config show` displays it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        # JSON strings are TOML basic strings once DEL, which TOML also wants escaped, is escaped.
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list):
        return "[" + ", ".join(toml_literal(item) for item in value) + "]"
    raise TypeError(f"no TOML form for {type(value).__name__}")


def starter_toml() -> str:
    """The commented starter file: every key at its default, commented out, with its help."""
    lines = [
        "# a2a configuration, written by `a2a config init`.",
        "#",
        "# Precedence, lowest first: built-in defaults < [default] < [profiles.NAME] (chosen with",
        "# --profile NAME or A2A_PROFILE=NAME) < A2A_SECTION_KEY environment variables (for example",
        "# A2A_GENERATE_SEED=7) < command-line flags. Every key below is commented out at its built-in",
        "# default: uncomment the ones you change. `a2a config show` prints the effective settings",
        "# and where each came from.",
        "",
    ]
    for section, keys in SCHEMA.items():
        lines.append(f"[default.{section}]")
        for name, spec in keys.items():
            help_text = spec.help + (f" One of: {', '.join(spec.choices)}." if spec.choices and spec.type is not list else "")
            lines += textwrap.wrap(help_text, width=98, initial_indent="# ", subsequent_indent="# ")
            lines += [f"# {name} = {toml_literal(spec.default)}", ""]
    lines += [
        "# A profile overrides [default] when chosen with --profile NAME. This one runs the whole",
        "# subnet on this machine, with no subtensor, TAO or network needed (`a2a --profile sim mine`):",
        "# [profiles.sim.chain]",
        '# network = "sim"',
    ]
    return "\n".join(lines) + "\n"


def write_starter_config(path: str | os.PathLike = CONFIG_FILE_NAME, *, force: bool = False) -> Path:
    """Write `starter_toml()` to `path` atomically; an existing file is kept unless `force`."""
    from a2a_cli.fileio import atomic_write

    path = Path(path).expanduser()
    if path.is_dir():
        raise InputError(f"{path} is a directory; give a file path such as {path / CONFIG_FILE_NAME}")
    if path.exists() and not force:
        raise InputError(f"{path} already exists (use --force to overwrite it)")
    return atomic_write(path, starter_toml())

