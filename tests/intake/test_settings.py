import os

from intake.settings import settings_with


def test_settings_with_reads_the_given_environment_and_leaves_the_real_one_alone():
    os.environ.pop("DOSSIER_API__PORT", None)
    settings = settings_with({"DOSSIER_API__PORT": "9123", "DOSSIER_MODE": "distributed"})
    assert settings.api.port == 9123
    assert settings.mode == "distributed"
    assert "DOSSIER_API__PORT" not in os.environ
