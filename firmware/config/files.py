"""The files an office config names ([features] hold_music, prompts_dir), checked when the
config loads: a file the box cannot play is a config error naming the key, as a typo is,
rather than a log line nobody reads. Relative paths are taken from the config file's own
directory (where an installer keeps the office's music beside office.toml)."""

from __future__ import annotations

from pathlib import Path

from firmware.config.features import FeaturesConfig
from firmware.config.problems import ConfigError, Issue, locate
from firmware.media.errors import MediaError
from firmware.media.music import office_music_samples

__all__ = ["with_office_files"]


def with_office_files(features: FeaturesConfig, config_file: Path, text: str
                      ) -> FeaturesConfig:
    """`features` with its paths made absolute; ConfigError if one cannot be used."""
    base = config_file.parent
    issues = []
    update: dict[str, str] = {}
    if features.hold_music is not None:
        music = base / features.hold_music
        try:
            office_music_samples(music)
        except MediaError as exc:
            issues.append(Issue(("features", "hold_music"), str(exc),
                                "fix the file or the path, or remove hold_music to play the "
                                "built-in tune"))
        update["hold_music"] = str(music.absolute())
    if features.prompts_dir is not None:
        prompts = base / features.prompts_dir
        if not prompts.is_dir():
            what = "is not a directory" if prompts.exists() else "does not exist"
            issues.append(Issue(("features", "prompts_dir"), f"{prompts} {what}",
                                "name the directory of the office's own recordings "
                                "(KEY.wav files), or remove prompts_dir"))
        update["prompts_dir"] = str(prompts.absolute())
    if issues:
        raise ConfigError(locate(issues, text, str(config_file)))
    return features.model_copy(update=update)
