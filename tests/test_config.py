"""Configuration: every precedence layer, every error path, the starter file and `a2a config`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from a2a_cli import config
from a2a_cli.cli.app import main
from a2a_cli.config import KEYS, SCHEMA, load_settings, starter_toml, toml_literal, write_starter_config
from a2a_cli.errors import InputError


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No A2A_* variable, a fresh cwd, and a fake user config dir: the real one is never read."""
    for name in list(os.environ):
        if name.startswith("A2A_"):
            monkeypatch.delenv(name)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    user_file = tmp_path / "user-config" / "a2a.toml"
    monkeypatch.setattr(config, "user_config_path", lambda: user_file)
    return user_file


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


LAYERED = """
[default.generate]
model = "from-default"
seed = 1
[default.miner]
port = 9000

[profiles.gpu.generate]
model = "from-profile"
formats = ["npz", "bvh"]

[profiles.fast.generate]
seed = 3
"""


# ---------------------------------------------------------------- precedence, one layer at a time


def test_built_in_defaults_without_any_file():
    settings = load_settings()
    assert settings.path is None and settings.profile is None
    assert settings.get("generate.model") == "library"
    assert settings.get("chain.netuid") == 25
    assert settings.get("miner.max_request_bytes") == 16 * 1024 * 1024
    assert {source for _, _, source in settings.items()} == {"default"}
    assert settings.as_dict() == {s: {k: spec.default for k, spec in keys.items()} for s, keys in SCHEMA.items()}


def test_default_table_overrides_built_in(tmp_path):
    path = write(tmp_path / "a2a.toml", LAYERED)
    settings = load_settings(config_path=path)
    assert settings.get("generate.model") == "from-default"
    assert settings.source("generate.model") == f"{path} [default]"
    assert settings.get("miner.port") == 9000
    assert settings.get("generate.formats") == ["npy"]
    assert settings.source("generate.formats") == "default"


def test_profile_overrides_default_table_and_keeps_the_rest(tmp_path):
    path = write(tmp_path / "a2a.toml", LAYERED)
    settings = load_settings(config_path=path, profile="gpu")
    assert settings.profile == "gpu"
    assert settings.get("generate.model") == "from-profile"
    assert settings.source("generate.model") == f"{path} [profiles.gpu]"
    assert settings.get("generate.formats") == ["npz", "bvh"]
    assert settings.get("generate.seed") == 1  # not in the profile: [default] still holds
    assert settings.source("generate.seed") == f"{path} [default]"


def test_profile_from_environment(tmp_path, monkeypatch):
    path = write(tmp_path / "a2a.toml", LAYERED)
    monkeypatch.setenv("A2A_PROFILE", "fast")
    settings = load_settings(config_path=path)
    assert settings.profile == "fast"
    assert settings.get("generate.seed") == 3
    assert settings.source("generate.seed") == f"{path} [profiles.fast]"


def test_environment_overrides_profile(tmp_path, monkeypatch):
    path = write(tmp_path / "a2a.toml", LAYERED)
    monkeypatch.setenv("A2A_GENERATE_MODEL", "from-env")
    monkeypatch.setenv("A2A_GENERATE_FORMATS", " npy , bvh,")
    monkeypatch.setenv("A2A_MINER_REQUIRE_VALIDATOR_PERMIT", "yes")
    monkeypatch.setenv("A2A_MINER_TIMEOUT_S", "2.5")
    settings = load_settings(config_path=path, profile="gpu")
    assert settings.get("generate.model") == "from-env"
    assert settings.source("generate.model") == "env A2A_GENERATE_MODEL"
    assert settings.get("generate.formats") == ["npy", "bvh"]
    assert settings.get("miner.require_validator_permit") is True
    assert settings.get("miner.timeout_s") == 2.5


def test_flags_override_environment_and_none_means_not_given(tmp_path, monkeypatch):
    path = write(tmp_path / "a2a.toml", LAYERED)
    monkeypatch.setenv("A2A_GENERATE_MODEL", "from-env")
    monkeypatch.setenv("A2A_GENERATE_SEED", "5")
    flags = {"generate.model": "from-flag", "generate.seed": None, "miner_max_concurrency": 4, "generate.formats": ("bvh",)}
    settings = load_settings(config_path=path, profile="gpu", flags=flags)
    assert settings.get("generate.model") == "from-flag"
    assert settings.source("generate.model") == "flag --model"
    assert settings.get("generate.seed") == 5 and settings.source("generate.seed") == "env A2A_GENERATE_SEED"
    assert settings.get("miner.max_concurrency") == 4
    assert settings.source("miner.max_concurrency") == "flag --max-concurrency"
    assert settings.get("generate.formats") == ["bvh"]


SUBNET_KEYS = [  # (key, built-in default, an environment value, what it reads as)
    ("miner.external_ip", "", "203.0.113.7", "203.0.113.7"),
    ("miner.allow_private_urls", False, "yes", True),
    ("miner.url_max_bytes", 32 * 1024 * 1024, "2048", 2048),
    ("miner.url_timeout_s", 10.0, "2.5", 2.5),
    ("miner.signature_max_age_s", 10.0, "30", 30.0),
    ("miner.metagraph_ttl_s", 0.0, "5", 5.0),
    ("chain.sim_block_seconds", 12.0, "0.05", 0.05),
    ("miner.headers_timeout_s", 10.0, "3", 3.0),
    ("miner.body_min_rate", 32 * 1024, "1000", 1000),
    ("miner.body_pool_bytes", 128 * 1024 * 1024, "4096", 4096),
    ("validator.challenge_url", "", "https://challenges.example/next", "https://challenges.example/next"),
]


@pytest.mark.parametrize("key, default, env_text, value", SUBNET_KEYS, ids=[k for k, *_ in SUBNET_KEYS])
def test_subnet_keys_have_defaults_and_take_the_environment(monkeypatch, key, default, env_text, value):
    assert load_settings().get(key) == default and type(load_settings().get(key)) is type(default)
    name = "A2A_" + key.replace(".", "_").upper()
    monkeypatch.setenv(name, env_text)
    settings = load_settings()
    assert settings.get(key) == value and settings.source(key) == f"env {name}"


@pytest.mark.parametrize("name, text", [("A2A_CHAIN_SIM_BLOCK_SECONDS", "0"), ("A2A_MINER_HEADERS_TIMEOUT_S", "0"), ("A2A_MINER_METAGRAPH_TTL_S", "-1"),
                                        ("A2A_MINER_URL_MAX_BYTES", "10"), ("A2A_MINER_SIGNATURE_MAX_AGE_S", "0.5")])
def test_subnet_keys_refuse_values_out_of_bounds(monkeypatch, name, text):
    monkeypatch.setenv(name, text)
    with pytest.raises(InputError, match=f"expected .* from {name}"):
        load_settings()


def test_every_numeric_setting_is_bounded_both_ways():
    from a2a_cli.chain import protocol
    from a2a_cli.config import MAX_REQUEST_BYTES

    unbounded = [key for key, spec in KEYS.items() if spec.type in (int, float) and (spec.min is None or spec.max is None)]
    assert unbounded == []
    assert MAX_REQUEST_BYTES == protocol.MAX_REQUEST_BYTES  # the config's copy of the protocol's cap


@pytest.mark.parametrize("line", ["max_request_bytes = 100000000000000000000000", "max_request_bytes = 1e23", "body_min_rate = 10000000000000",
                                  "timeout_s = 1e300"])
def test_huge_numbers_in_a_file_are_refused_with_exit_2(capsys, tmp_path, line):
    path = write(tmp_path / "a2a.toml", f"[default.miner]\n{line}\n")
    code, out, err = run_cli(capsys, "--config", str(path), "config", "show")
    assert code == 2 and out == "" and err.count("\n") == 1 and "miner." in err, err


@pytest.mark.parametrize("nested", ["x = " + "[" * 5000 + "]" * 5000, "x = " + "{a = " * 3000 + "1" + "}" * 3000])
def test_deeply_nested_toml_is_one_line_with_exit_2(capsys, tmp_path, nested):
    path = write(tmp_path / "a2a.toml", f"[default.miner]\n{nested}\n")
    code, out, err = run_cli(capsys, "--config", str(path), "config", "show")
    assert code == 2 and err.count("\n") == 1 and "nested too deeply" in err, err


def test_flag_with_unknown_key_is_a_programming_error():
    with pytest.raises(KeyError, match="did you mean 'generate.model'"):
        load_settings(flags={"generate.modl": "x"})


def test_wrong_flag_value_is_an_input_error():
    with pytest.raises(InputError, match=r"^miner.port: expected an integer <= 65535, got 70000 \(integer\) from --port$"):
        load_settings(flags={"miner.port": 70000})


# ---------------------------------------------------------------- where the file is looked up


def test_lookup_cwd_file_then_user_config_dir(isolated, tmp_path):
    user = write(isolated, '[default.generate]\nmodel = "user"\n')
    assert load_settings().path == user
    assert load_settings().get("generate.model") == "user"
    local = write(Path("a2a.toml"), '[default.generate]\nmodel = "local"\n')
    settings = load_settings()
    assert settings.path == local.absolute()
    assert settings.get("generate.model") == "local"


def test_lookup_env_file_beats_cwd_and_explicit_beats_env(tmp_path, monkeypatch):
    write(Path("a2a.toml"), '[default.generate]\nmodel = "local"\n')
    from_env = write(tmp_path / "env.toml", '[default.generate]\nmodel = "env-file"\n')
    explicit = write(tmp_path / "explicit.toml", '[default.generate]\nmodel = "explicit"\n')
    monkeypatch.setenv("A2A_CONFIG", str(from_env))
    assert load_settings().get("generate.model") == "env-file"
    assert load_settings(config_path=explicit).get("generate.model") == "explicit"


def test_settings_accessors():
    settings = load_settings(flags={"general.data_dir": "~/dances"})
    assert settings.data_dir == Path.home() / "dances"
    assert settings.cache_dir.name == "a2a"
    assert settings.section("miner")["port"] == 8091
    formats = settings.get("generate.formats")
    formats.append("bvh")  # a copy: the settings do not change
    assert settings.get("generate.formats") == ["npy"]
    with pytest.raises(KeyError, match="did you mean 'miner.port'"):
        settings.get("miner.prot")
    with pytest.raises(KeyError, match="did you mean 'miner'"):
        settings.section("minr")


def test_audio_cache_dir_follows_general_cache_dir_and_audio_cache(tmp_path, monkeypatch):
    assert load_settings().audio_cache_dir == config.default_cache_dir() / "features"
    write(Path("a2a.toml"), f'[default.general]\ncache_dir = "{tmp_path / "from-file"}"\n')
    assert load_settings().audio_cache_dir == tmp_path / "from-file" / "features"
    monkeypatch.setenv("A2A_GENERAL_CACHE_DIR", str(tmp_path / "from-env"))
    assert load_settings().audio_cache_dir == tmp_path / "from-env" / "features"
    monkeypatch.setenv("A2A_AUDIO_CACHE", "off")
    assert load_settings().audio_cache_dir is None
    assert "A2A_GENERAL_CACHE_DIR" in config.KEYS["general.cache_dir"].help


# ---------------------------------------------------------------- error paths


def load_error(tmp_path, text: str, **kwargs) -> tuple[str, Path]:
    path = write(tmp_path / "a2a.toml", text)
    with pytest.raises(InputError) as info:
        load_settings(config_path=path, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message, path


def test_bad_toml_names_file_and_line(tmp_path):
    message, path = load_error(tmp_path, '[default.generate]\nmodel = "ok"\nseed = = 3\n')
    assert message.startswith(f"bad TOML in {path}: ")
    assert "line 3" in message


def test_unknown_section_suggests_closest(tmp_path):
    message, path = load_error(tmp_path, '[default.genrate]\nmodel = "x"\n')
    assert message == f"unknown section 'genrate' in {path} [default]; did you mean 'generate'?"


def test_unknown_key_in_an_unselected_profile_is_still_caught(tmp_path):
    message, path = load_error(tmp_path, '[profiles.fast.miner]\nmax_concurency = 4\n', profile="fast")
    assert message == f"unknown key 'miner.max_concurency' in {path} [profiles.fast]; did you mean 'miner.max_concurrency'?"
    assert load_settings(config_path=path).other_profile_problems == (message,)  # found, though not in use


def test_a_mistake_in_a_profile_not_in_use_stops_only_that_profile_and_config_show(tmp_path, capsys):
    """`steps = -4` in [profiles.fast] broke every command of every profile (issue 19, 8): now a run
    without that profile warns and goes on, a run with it and `config show` refuse it by name."""
    song = tmp_path / "song.wav"
    assert run_cli(capsys, "example", str(song))[0] == 0
    path = write(tmp_path / "a2a.toml", f'[default.general]\ncache_dir = "{tmp_path / "cache"}"\n'
                                        '[default.generate]\nformats = ["npz"]\n[profiles.fast.generate]\nsteps = -4\n')
    problem = f"generate.steps: expected an integer >= 1, got -4 (integer) in {path} [profiles.fast]"
    code, out, err = run_cli(capsys, "--config", str(path), "generate", str(song), "--duration", "2", "--json")
    assert code == 0 and json.loads(out)["results"][0]["frames"] == 60, err
    assert err.startswith(f"warning: {problem} (a profile not in use") and err.count("\n") == 1
    code, out, err = run_cli(capsys, "--config", str(path), "--profile", "fast", "generate", str(song), "--force")
    assert code == 2 and err == f"error: {problem}\n" and out == ""
    code, out, err = run_cli(capsys, "--config", str(path), "config", "show")
    assert code == 2 and err == f"error: {problem}\n" and out == ""


def test_a_style_the_settings_cannot_dance_is_refused_by_config_show_naming_file_and_table(tmp_path, capsys):
    """`style = "salsa"` passed `config show` and failed later in `generate` without naming the file (issue 19, 8);
    salsa is a style now (the motion library's), tango is not."""
    path = write(tmp_path / "a2a.toml", '[default.generate]\nstyle = "tango"\n')
    code, out, err = run_cli(capsys, "--config", str(path), "config", "show")
    assert code == 2 and out == ""
    assert err == ("error: generate.style: expected one of auto, hiphop, house, flow, popping, salsa, calm, conversational, "
                   f"animated, happy, sad, neutral, old, angry, relaxed, got 'tango' in {path} [default]\n")


def test_the_style_setting_offers_what_choreo_and_the_shipped_library_dance_and_orator_and_dsg_gesture():
    from a2a_cli.generation.choreo.styles import AUTO, STYLES
    from a2a_cli.generation.gesture.styles import GESTURE_STYLE_NAMED
    from a2a_cli.generation.library.index import shipped_library
    from a2a_cli.style_names import DSG_STYLES, REAL_MOTION_STYLES

    assert KEYS["generate.style"].choices == (AUTO, *STYLES, *REAL_MOTION_STYLES, *GESTURE_STYLE_NAMED, *DSG_STYLES)
    assert shipped_library().styles == ("salsa",) and set(REAL_MOTION_STYLES) <= set(shipped_library().styles)


@pytest.mark.parametrize("key, given, kept", [("generate.formats", ["NPZ", "Bvh"], ["npz", "bvh"]), ("generate.style", "HOUSE", "house"),
                                              ("generate.precision", "BF16", "bf16"), ("general.log_level", "Debug", "debug")])
def test_choices_are_matched_in_any_case(key, given, kept):
    """`--format NPZ` and `--style HOUSE` were refused while `-o dance.NPY` was accepted (issue 19, 12)."""
    assert load_settings(flags={key: given}).get(key) == kept


def test_a_wrong_choice_from_a_flag_names_the_choice_not_the_list(tmp_path, capsys):
    """The --format error showed internals: "got ['mp4'] (array) from --format" (issue 19, 12)."""
    song = tmp_path / "song.wav"
    assert run_cli(capsys, "example", str(song))[0] == 0
    code, out, err = run_cli(capsys, "generate", str(song), "--format", "NPZ", "--format", "mp4")
    assert code == 2 and err == "error: generate.formats: expected one of npy, npz, bvh, got 'mp4' from --format\n"


def test_a_removed_setting_says_why_instead_of_guessing_a_similar_name(tmp_path, monkeypatch):
    """generate.fps was never read (a2a's dances are 30 fps): a file or variable that still sets it is
    refused, as every unknown key is, but with the reason rather than "did you mean 'generate.formats'"."""
    assert "fps" not in SCHEMA["generate"]
    message, path = load_error(tmp_path, '[default.generate]\nfps = 24\n')
    assert message == f"'generate.fps' in {path} [default] is no longer a setting: {config.RETIRED_KEYS['generate.fps']}"
    assert "30 fps" in message and "did you mean" not in message
    monkeypatch.setenv("A2A_GENERATE_FPS", "24")
    with pytest.raises(InputError, match=r"^environment variable A2A_GENERATE_FPS sets 'generate.fps', which is no longer a setting: .*30 fps"):
        load_settings()


def test_the_motion_formats_setting_offers_what_the_motion_package_writes():
    from a2a_cli.cli.common import MOTION_SUFFIXES
    from a2a_cli.motion.formats import FORMATS

    assert KEYS["generate.formats"].choices == FORMATS
    assert MOTION_SUFFIXES == tuple("." + fmt for fmt in FORMATS)


def test_unknown_top_level_table(tmp_path):
    message, path = load_error(tmp_path, '[defaults.generate]\nseed = 1\n')
    assert message.startswith(f"unknown table [defaults] in {path}")
    assert "did you mean 'default'?" in message


def test_keys_outside_a_section_are_refused(tmp_path):
    message, path = load_error(tmp_path, '[default]\ngenerate = "choreo"\n')
    assert message == f"'generate' in {path} [default] must be a table ([default.generate]), got string"


@pytest.mark.parametrize(
    "line, expected",
    [
        ('seed = "abc"', "generate.seed: expected an integer, got 'abc' (string)"),
        ("seed = true", "generate.seed: expected an integer, got True (boolean)"),
        ("seed = 1.5", "generate.seed: expected an integer, got 1.5 (float)"),
        ("seed = -1", "generate.seed: expected an integer >= 0, got -1 (integer)"),
        ('formats = "npy"', "generate.formats: expected a list of strings, got 'npy' (string)"),
        ("formats = [1, 2]", "generate.formats: expected a list of strings, got [1, 2] (array)"),
        ('formats = ["npy", "xyz"]', "generate.formats: expected one of npy, npz, bvh, got 'xyz'"),
        ("model = 3", "generate.model: expected a string, got 3 (integer)"),
    ],
)
def test_wrong_type_names_key_expectation_value_and_table(tmp_path, line, expected):
    message, path = load_error(tmp_path, f"[profiles.fast.generate]\n{line}\n", profile="fast")
    assert message == f"{expected} in {path} [profiles.fast]"


@pytest.mark.parametrize(
    "section, line, expected",
    [
        ("general", 'log_level = "loud"', "general.log_level: expected one of debug, info, warning, error, got 'loud'"),
        ("miner", "port = 70000", "miner.port: expected an integer <= 65535, got 70000 (integer)"),
        ("miner", "timeout_s = nan", "miner.timeout_s: expected a finite number, got nan (float)"),
        ("validator", "alpha = 1.5", "validator.alpha: expected a number <= 1, got 1.5 (float)"),
        ("audio", 'cache = "yes"', "audio.cache: expected true or false, got 'yes' (string)"),
    ],
)
def test_choices_bounds_and_booleans(tmp_path, section, line, expected):
    message, path = load_error(tmp_path, f"[default.{section}]\n{line}\n")
    assert message == f"{expected} in {path} [default]"


def test_integer_is_accepted_where_a_number_is_expected(tmp_path):
    path = write(tmp_path / "a2a.toml", "[default.miner]\ntimeout_s = 30\n")
    value = load_settings(config_path=path).get("miner.timeout_s")
    assert value == 30.0 and isinstance(value, float)


def test_missing_profile_lists_existing_ones(tmp_path):
    message, path = load_error(tmp_path, LAYERED, profile="gpux")
    assert message == f"profile 'gpux' not found in {path} (profiles there: fast, gpu); did you mean 'gpu'?"


def test_profile_without_any_config_file(isolated):
    with pytest.raises(InputError, match=r"profile 'gpu' was asked for, but no config file was found .*user-config"):
        load_settings(profile="gpu")


@pytest.mark.parametrize(
    "name, value, expected",
    [
        ("A2A_GENERATE_SEED", "abc", "A2A_GENERATE_SEED='abc': expected an integer for generate.seed"),
        ("A2A_AUDIO_CACHE", "maybe", "A2A_AUDIO_CACHE='maybe': expected true or false for audio.cache (1/0, true/false, yes/no, on/off)"),
        ("A2A_MINER_MIN_STAKE", "lots", "A2A_MINER_MIN_STAKE='lots': expected a number for miner.min_stake"),
        ("A2A_MINER_PORT", "-5", "miner.port: expected an integer >= 0, got -5 (integer) from A2A_MINER_PORT"),
        ("A2A_GENERATE_FORMATS", "npy,mp4", "generate.formats: expected one of npy, npz, bvh, got 'mp4' from A2A_GENERATE_FORMATS"),
        ("A2A_GENERATE_MODLE", "x", "unknown setting in environment variable A2A_GENERATE_MODLE; did you mean 'A2A_GENERATE_MODEL'?"),
    ],
)
def test_bad_environment_values_name_the_variable(monkeypatch, name, value, expected):
    monkeypatch.setenv(name, value)
    with pytest.raises(InputError) as info:
        load_settings()
    assert str(info.value) == expected


def test_other_a2a_variables_are_not_settings(monkeypatch):
    monkeypatch.setenv("A2A_SOMETHING_ELSE", "1")  # not under a settings section: left to whoever reads it
    assert load_settings().get("generate.seed") == 0


@given(value=st.booleans(), word=st.sampled_from(["{}", "{}".upper(), " {} "]))
def test_env_booleans_accept_every_documented_spelling(value, word):
    spellings = ["1", "true", "yes", "on"] if value else ["0", "false", "no", "off"]
    for spelling in spellings:
        assert config._parse_env(bool, word.format(spelling)) is value


@given(st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._-", min_size=1), max_size=6))
def test_env_lists_are_comma_separated(items):
    assert config._parse_env(list, ",".join(items)) == items
    assert config._parse_env(list, " , ".join(items) + ",") == items


def test_missing_explicit_config_file(tmp_path, monkeypatch):
    with pytest.raises(InputError, match=r"^config file not found: .*nope\.toml$"):
        load_settings(config_path=tmp_path / "nope.toml")
    monkeypatch.setenv("A2A_CONFIG", str(tmp_path / "also-missing.toml"))
    with pytest.raises(InputError, match=r"^config file not found: .*also-missing\.toml$"):
        load_settings()


def test_unreadable_config_file(tmp_path):
    folder = tmp_path / "a-folder.toml"
    folder.mkdir()
    with pytest.raises(InputError, match=rf"^cannot read config file {re.escape(str(folder))}: Is a directory$"):
        load_settings(config_path=folder)
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"[default]\n\xff\xfe\x00")
    with pytest.raises(InputError, match=r"is not UTF-8 text \(bad byte at offset 10\)"):
        load_settings(config_path=binary)


# ---------------------------------------------------------------- the starter file


def uncommented(text: str) -> str:
    """The starter with every commented-out assignment and table header switched on."""
    return re.sub(r"^# ([a-z_]+ = .*|\[profiles\..*\])$", r"\1", text, flags=re.MULTILINE)


def test_starter_file_loads_and_mentions_every_key(tmp_path):
    path = write(tmp_path / "a2a.toml", starter_toml())
    settings = load_settings(config_path=path)
    assert settings.path == path
    assert {source for _, _, source in settings.items()} == {"default"}
    for key, spec in KEYS.items():
        assert f"# {key.split('.')[1]} = {toml_literal(spec.default)}\n" in starter_toml()


def test_starter_file_uncommented_gives_back_every_default(tmp_path):
    path = write(tmp_path / "a2a.toml", uncommented(starter_toml()))
    settings = load_settings(config_path=path)
    for key, spec in KEYS.items():
        assert settings.get(key) == spec.default
        assert type(settings.get(key)) is spec.type
        assert settings.source(key) == f"{path} [default]"
    sim = load_settings(config_path=path, profile="sim")
    assert sim.get("chain.network") == "sim"
    assert sim.source("chain.network") == f"{path} [profiles.sim]"


def test_starter_file_edited_by_hand(tmp_path):
    text = starter_toml().replace("# seed = 0\n", "seed = 7\n")
    path = write(tmp_path / "a2a.toml", text)
    assert load_settings(config_path=path).get("generate.seed") == 7


@given(st.text(max_size=40))
def test_toml_literal_round_trips_any_string(text):
    assert tomllib.loads(f"v = {toml_literal(text)}")["v"] == text


def test_write_starter_refuses_to_overwrite_without_force(tmp_path):
    path = tmp_path / "sub" / "a2a.toml"
    assert write_starter_config(path) == path
    assert path.read_text() == starter_toml()
    path.write_text("# mine\n")
    with pytest.raises(InputError, match=r"already exists \(use --force to overwrite it\)"):
        write_starter_config(path)
    assert path.read_text() == "# mine\n"
    write_starter_config(path, force=True)
    assert path.read_text() == starter_toml()
    assert [p.name for p in path.parent.iterdir()] == ["a2a.toml"]  # no temporary file left behind
    with pytest.raises(InputError, match="is a directory"):
        write_starter_config(tmp_path)


# ---------------------------------------------------------------- the CLI


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    captured = capsys.readouterr()
    return info.value.code, captured.out, captured.err


def test_cli_show_json_reports_values_and_sources(capsys, monkeypatch, tmp_path):
    path = write(tmp_path / "a2a.toml", LAYERED)
    monkeypatch.setenv("A2A_MINER_PORT", "9100")
    code, out, _ = run_cli(capsys, "--config", str(path), "--profile", "gpu", "config", "show", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["config_file"] == str(path) and doc["profile"] == "gpu"
    assert set(doc["settings"]) == set(KEYS)
    assert doc["settings"]["generate.model"] == {"value": "from-profile", "source": f"{path} [profiles.gpu]"}
    assert doc["settings"]["generate.seed"] == {"value": 1, "source": f"{path} [default]"}
    assert doc["settings"]["miner.port"] == {"value": 9100, "source": "env A2A_MINER_PORT"}
    assert doc["settings"]["chain.netuid"] == {"value": 25, "source": "default"}


def test_cli_errors_are_one_line_with_exit_code_2(capsys, tmp_path):
    path = write(tmp_path / "a2a.toml", "[profiles.fast.generate]\nseed = \"abc\"\n")
    code, out, err = run_cli(capsys, "--config", str(path), "config", "show")
    assert code == 2 and out == ""
    assert err.strip() == f"error: generate.seed: expected an integer, got 'abc' (string) in {path} [profiles.fast]"
    code, _, err = run_cli(capsys, "--profile", "nope", "config", "show")
    assert code == 2 and err.count("\n") == 1 and "profile 'nope'" in err


def test_cli_init_writes_a_loadable_file_and_keeps_existing_ones(capsys):
    code, out, _ = run_cli(capsys, "config", "init")
    assert code == 0 and "wrote a2a.toml" in out
    assert Path("a2a.toml").read_text() == starter_toml()
    code, _, err = run_cli(capsys, "config", "init")
    assert code == 2 and "already exists" in err
    code, out, _ = run_cli(capsys, "config", "show", "--json")  # found in the cwd
    assert code == 0 and json.loads(out)["config_file"] == str(Path("a2a.toml").absolute())
    code, _, _ = run_cli(capsys, "config", "init", "--force")
    assert code == 0


def test_cli_show_table_in_a_fresh_process(tmp_path):
    path = write(tmp_path / "a2a.toml", LAYERED)
    env = {k: v for k, v in os.environ.items() if not k.startswith("A2A_")}
    env.update(COLUMNS="200", HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "xdg"), A2A_GENERATE_SEED="11")
    result = subprocess.run(
        [sys.executable, "-m", "a2a_cli", "--config", str(path), "config", "show"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=30,
    )
    assert result.returncode == 0, result.stderr
    rows = {line.split("│")[1].strip(): [cell.strip() for cell in line.split("│")[2:4]] for line in result.stdout.splitlines() if line.startswith("│")}
    assert rows["generate.seed"] == ["11", "env A2A_GENERATE_SEED"]
    assert rows["generate.model"] == ['"from-default"', f"{path} [default]"]
    assert rows["generate.formats"] == ['["npy"]', "default"]
    assert len(rows) == len(KEYS)
