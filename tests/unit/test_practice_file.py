"""The practice file: the sample loads, and every mistake names its key."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from adapters.practice_file import PracticeFileError, load_practice
from domain.scheduling import TextPolicy
from entrypoints.settings import DEFAULT_PRACTICE_FILE

SAMPLE = DEFAULT_PRACTICE_FILE.read_text()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "practice.toml"
    path.write_text(text)
    return path


def test_the_sample_dental_office_loads() -> None:
    practice = load_practice(DEFAULT_PRACTICE_FILE)
    assert practice.name == "Bright Smile Dental"
    assert sorted(p.title for p in practice.providers.values()) == [
        "Dental Hygienist",
        "Dentist",
        "Dentist",
    ]
    assert set(practice.services) == {"cleaning", "checkup", "consultation"}
    assert practice.services["cleaning"].duration == timedelta(minutes=60)
    assert practice.front_desk_phone == "+12125550142"
    assert practice.min_notice == timedelta(hours=2)


def test_the_minimum_notice_defaults_to_two_hours_and_can_be_changed(tmp_path: Path) -> None:
    without = SAMPLE.replace("min_notice_hours = 2", "", 1)
    assert "min_notice_hours" not in without
    assert load_practice(write(tmp_path, without)).min_notice == timedelta(hours=2)
    changed = SAMPLE.replace("min_notice_hours = 2", "min_notice_hours = 24", 1)
    assert load_practice(write(tmp_path, changed)).min_notice == timedelta(hours=24)


def test_the_default_region_can_be_overridden() -> None:
    assert load_practice(DEFAULT_PRACTICE_FILE, default_region="GB").default_region == "GB"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('time_zone = "America/New_York"', 'time_zone = "Mars/Olympus"', "practice.time_zone"),
        (
            'monday = ["08:00-12:00", "13:00-17:00"]',
            'monday = ["12:00-08:00"]',
            "practice.hours.monday",
        ),
        (
            'monday = ["08:00-12:00", "13:00-17:00"]',
            'monday = ["8am-noon"]',
            "practice.hours.monday",
        ),
        (
            'services = ["cleaning", "checkup"]',
            'services = ["cleaning", "whitening"]',
            "providers[2].services",
        ),
        ("duration_minutes = 60", "duration_minutes = 0", "services[0].duration_minutes"),
        (
            "booking_horizon_days = 60",
            "booking_horizon_days = 60\ncolour = 'blue'",
            "practice.colour",
        ),
        (
            'front_desk_phone = "+12125550142"',
            'front_desk_phone = "call us"',
            "practice.front_desk_phone",
        ),
        ('id = "checkup"', 'id = "cleaning"', "services[1].id"),
        ("min_notice_hours = 2", "min_notice_hours = -1", "practice.min_notice_hours"),
    ],
)
def test_a_broken_file_names_the_key_and_the_problem(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    assert old in SAMPLE
    with pytest.raises(PracticeFileError) as exc:
        load_practice(write(tmp_path, SAMPLE.replace(old, new, 1)))
    assert message in str(exc.value)


def test_a_file_that_is_not_toml_is_reported(tmp_path: Path) -> None:
    with pytest.raises(PracticeFileError, match="not valid TOML"):
        load_practice(write(tmp_path, "[practice\nname="))


def test_a_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(PracticeFileError, match="cannot read"):
        load_practice(tmp_path / "nope.toml")


def test_the_receptionist_section_is_neutral_and_keeps_provider_tables_as_they_are(
    tmp_path: Path,
) -> None:
    section = (
        '\n[receptionist]\ngreeting = "Hi from {practice}"\nvoice = "aura-2-orion-en"\n'
        'language = "es"\n\n[receptionist.deepgram]\nthink_model = "gpt-4o"\n'
    )
    practice = load_practice(write(tmp_path, SAMPLE + section))
    receptionist = practice.receptionist
    assert (receptionist.greeting, receptionist.voice, receptionist.language) == (
        "Hi from {practice}",
        "aura-2-orion-en",
        "es",
    )
    assert receptionist.provider_options == {"deepgram": {"think_model": "gpt-4o"}}


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ('\n[receptionist]\ngreting = "Hi"\n', "receptionist.greting"),
        ('\n[receptionist]\nlanguage = "English!"\n', "receptionist.language"),
        ('\n[receptionist]\nlisten_model = "nova-3"\n', "receptionist.listen_model"),
    ],
)
def test_an_unknown_or_bad_receptionist_key_is_refused_naming_it(
    tmp_path: Path, section: str, message: str
) -> None:
    with pytest.raises(PracticeFileError, match=message.replace(".", r"\.")):
        load_practice(write(tmp_path, SAMPLE + section))


def test_texts_are_on_without_reminders_unless_the_sms_table_says_otherwise(
    tmp_path: Path,
) -> None:
    assert load_practice(write(tmp_path, SAMPLE)).texts == TextPolicy()
    with_sms = SAMPLE + "\n[sms]\nenabled = true\nreminder_hours = 24\n"
    texts = load_practice(write(tmp_path, with_sms)).texts
    assert texts == TextPolicy(enabled=True, reminder_before=timedelta(hours=24))
    off = SAMPLE + "\n[sms]\nenabled = false\n"
    assert load_practice(write(tmp_path, off)).texts.enabled is False


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("reminder_hours = 0", "sms.reminder_hours"),
        ("reminder_hours = 1000", "sms.reminder_hours"),
        ('reminder_hours = "24"', "sms.reminder_hours"),
        ('enabled = "yes"', "sms.enabled"),
        ("remind_hours = 24", "sms.remind_hours: Extra inputs are not permitted"),
    ],
)
def test_a_bad_sms_table_names_the_key(tmp_path: Path, table: str, message: str) -> None:
    with pytest.raises(PracticeFileError, match=message):
        load_practice(write(tmp_path, SAMPLE + f"\n[sms]\n{table}\n"))
