from __future__ import annotations

from pathlib import Path

import pytest

from fixtures.errors import BootError
from fixtures.target.launchers import keycloak
from fixtures.target.launchers.process import _same_process, process_start_time, reap_orphans


def test_no_suitable_java_is_a_boot_error_that_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keycloak, "java_major", lambda java: 17)
    with pytest.raises(BootError, match="needs Java 21 or newer") as info:
        keycloak.find_java("/opt/some-jdk")
    assert "/opt/some-jdk (Java 17)" in str(info.value)
    assert "JAVA_HOME" in str(info.value)


def test_the_profiles_java_home_comes_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keycloak, "java_major", lambda java: 25 if "preferred" in str(java) else 21)
    assert keycloak.find_java("/opt/preferred") == Path("/opt/preferred")


def test_boot_error_carries_the_log_tail() -> None:
    error = BootError("Keycloak did not start", log_tail="line 1\nERROR port in use")
    assert "last lines of the log" in str(error)
    assert "ERROR port in use" in str(error)


def test_a_reused_pid_is_not_the_same_process() -> None:
    import os

    me = f"{os.getpid()} {process_start_time(os.getpid())}"
    assert _same_process(me) == os.getpid()
    assert _same_process(f"{os.getpid()} 1") is None
    assert _same_process("garbage") is None


def test_orphans_of_a_dead_owner_are_reaped(tmp_path: Path) -> None:
    import subprocess

    child = subprocess.Popen(["sleep", "60"], start_new_session=True)
    work = tmp_path / "digasec-abc-1"
    work.mkdir()
    (work / "harness.pid").write_text("999999999 1")  # an owner that does not run
    (work / "backend.pid").write_text(f"{child.pid} {process_start_time(child.pid)}")
    reaped = reap_orphans(tmp_path)
    assert child.wait(10) != 0
    assert reaped == [f"backend (pid {child.pid}) of digasec-abc-1"]
    assert not work.exists()


def test_work_directories_of_live_runs_are_left_alone(tmp_path: Path) -> None:
    import os

    work = tmp_path / "digasec-live-1"
    work.mkdir()
    (work / "harness.pid").write_text(f"{os.getpid()} {process_start_time(os.getpid())}")
    assert reap_orphans(tmp_path) == []
    assert work.exists()


# -- the JVM's ahead-of-time cache ------------------------------------------------------------------------------
def _distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, java: int) -> keycloak.KeycloakDistribution:
    monkeypatch.setenv("DIGASEC_CACHE", str(tmp_path))
    monkeypatch.delenv("DIGASEC_KEYCLOAK_AOT", raising=False)
    monkeypatch.setattr(keycloak, "java_major", lambda _java: java)
    (tmp_path / "keycloak").mkdir()  # where ensure() unpacked the distribution
    return keycloak.KeycloakDistribution("1.2.3")


def test_java_before_25_gets_no_cache_and_no_training(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    distribution = _distribution(tmp_path, monkeypatch, java=21)
    monkeypatch.setattr(keycloak, "_train_aot_cache", lambda *args: pytest.fail("trained on Java 21"))
    assert distribution.aot_cache(Path("/jdk")) is None


def test_the_cache_is_trained_once_per_java_and_then_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    distribution = _distribution(tmp_path, monkeypatch, java=25)
    trained: list[Path] = []

    def train(_home: Path, _java: Path, cache: Path) -> None:
        trained.append(cache)
        cache.write_bytes(b"aot")

    monkeypatch.setattr(keycloak, "_train_aot_cache", train)
    first = distribution.aot_cache(Path("/jdk"))
    assert first == distribution.home.with_name("keycloak-1.2.3-java25.aot") == trained[0]
    assert distribution.aot_cache(Path("/jdk")) == first
    assert len(trained) == 1


def test_a_failed_training_is_remembered_and_the_run_goes_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    distribution = _distribution(tmp_path, monkeypatch, java=25)
    attempts: list[int] = []

    def fail(*_args: Path) -> None:
        attempts.append(1)
        raise OSError("the training start wrote no AOT cache")

    monkeypatch.setattr(keycloak, "_train_aot_cache", fail)
    assert distribution.aot_cache(Path("/jdk")) is None
    assert distribution.aot_cache(Path("/jdk")) is None
    assert len(attempts) == 1
    assert "wrote no AOT cache" in (tmp_path / "keycloak" / "keycloak-1.2.3-java25.failed").read_text()


def test_the_cache_can_be_switched_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    distribution = _distribution(tmp_path, monkeypatch, java=25)
    monkeypatch.setenv("DIGASEC_KEYCLOAK_AOT", "off")
    monkeypatch.setattr(keycloak, "_train_aot_cache", lambda *args: pytest.fail("trained although switched off"))
    assert distribution.aot_cache(Path("/jdk")) is None


def test_the_jvm_gets_the_cache_after_the_callers_own_options(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JAVA_OPTS_APPEND", "-Xlog:gc")
    assert keycloak.aot_java_options(Path("/c/kc.aot")) == {"JAVA_OPTS_APPEND": "-Xlog:gc -XX:AOTCache=/c/kc.aot"}
    assert keycloak.aot_java_options(None) == {}
