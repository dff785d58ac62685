"""Build the demo's container images locally; no image registry is involved.

    images/build.sh [--mirror URL] [--only base|keycloak|backend ...] [--force] [--java-home DIR]

1. `digasec/debian:bookworm`: a minimal Debian root file system made with `debootstrap --variant=minbase` and
   turned into an image with `docker import`. The Debian mirror is the one apt on this machine uses (read from
   /etc/apt/sources.list and /etc/apt/sources.list.d/), or `--mirror URL` / DIGASEC_DEBIAN_MIRROR.
2. `digasec/keycloak:<version>`: the Keycloak server distribution (the Maven artifact the process launcher uses,
   from its cache) and a Java 21+ runtime from this machine, pre-built with `kc.sh build` and the process
   launcher's options (`--db=dev-mem --health-enabled=true --cache=local`).
3. `digasec/demo-backend:local`: Debian's python3, the project's pinned dependencies (constraints.txt) installed
   with pip inside the build (from wheels the host's pip downloads, so the build needs no index access of its
   own), and the demo/ package.

Every image carries the label `digasec.inputs`: a hash of everything it is made from (recipe, Dockerfile, base
image, distribution, JDK, constraints, demo sources). An image whose label matches is not rebuilt.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
if str(PROJECT) not in sys.path:
    sys.path.insert(0, str(PROJECT))

IMAGES = PROJECT / "images"
SUITE = "bookworm"
BASE_TAG = f"digasec/debian:{SUITE}"
BACKEND_TAG = "digasec/demo-backend:local"
INPUTS_LABEL = "digasec.inputs"
# Bump when the recipe of the base image changes in a way its inputs do not show.
BASE_RECIPE = 1
# The demo's imports beyond the `demo` extra of pyproject.toml (they come with the harness's own dependencies).
DEMO_EXTRA_REQUIREMENTS = ("httpx", "pyjwt[crypto]")
JDK_IGNORE = ("src.zip", "man", "include", "jmods", "demo", "sample")
PYTHON_IN_IMAGE = "3.11"  # Debian bookworm's python3


def keycloak_tag(version: str) -> str:
    return f"digasec/keycloak:{version}"


# -- the Debian mirror apt uses -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class AptSource:
    types: tuple[str, ...]
    uri: str
    suites: tuple[str, ...]
    components: tuple[str, ...]
    signed_by: str | None = None


def _one_line_sources(text: str) -> Iterator[AptSource]:
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        kind, _, rest = line.partition(" ")
        options: dict[str, str] = {}
        rest = rest.strip()
        if rest.startswith("["):
            inner, _, rest = rest[1:].partition("]")
            for option in inner.split():
                key, _, value = option.partition("=")
                options[key] = value
        words = rest.split()
        if kind in ("deb", "deb-src") and len(words) >= 2:
            yield AptSource((kind,), words[0], (words[1],), tuple(words[2:]), options.get("signed-by"))


def _deb822_sources(text: str) -> Iterator[AptSource]:
    stanzas: list[dict[str, str]] = [{}]
    key = ""
    for raw in text.splitlines():
        if raw.startswith("#"):
            continue
        if not raw.strip():
            if stanzas[-1]:
                stanzas.append({})
            continue
        if raw[0] in " \t" and key:  # continuation line (e.g. an inline Signed-By key)
            stanzas[-1][key] += "\n" + raw.strip()
            continue
        key, _, value = raw.partition(":")
        key = key.strip().lower()
        stanzas[-1][key] = value.strip()
    for stanza in stanzas:
        if not stanza or stanza.get("enabled", "yes").lower() == "no":
            continue
        signed_by = stanza.get("signed-by")
        for uri in stanza.get("uris", "").split():
            yield AptSource(
                tuple(stanza.get("types", "").split()),
                uri,
                tuple(stanza.get("suites", "").split()),
                tuple(stanza.get("components", "").split()),
                signed_by if signed_by and "\n" not in signed_by else None,
            )


def apt_sources(etc_apt: Path = Path("/etc/apt")) -> list[AptSource]:
    sources: list[AptSource] = []
    files = [etc_apt / "sources.list", *sorted((etc_apt / "sources.list.d").glob("*"))]
    for file in files:
        if not file.is_file():
            continue
        text = file.read_text(encoding="utf-8", errors="replace")
        if file.suffix == ".sources":
            sources.extend(_deb822_sources(text))
        elif file.suffix == ".list" or file.name == "sources.list":
            sources.extend(_one_line_sources(text))
    return sources


def debian_mirror(suite: str, etc_apt: Path = Path("/etc/apt")) -> AptSource:
    """The apt source that serves `<suite> main` (binary packages) on this machine."""
    for source in apt_sources(etc_apt):
        if "deb" in source.types and suite in source.suites and "main" in source.components:
            return source
    raise SystemExit(
        f"build: no apt source for '{suite} main' in {etc_apt}/sources.list or {etc_apt}/sources.list.d/; "
        "pass the Debian mirror your apt may use: images/build.sh --mirror URL (or DIGASEC_DEBIAN_MIRROR=URL)"
    )


# -- inputs and labels --------------------------------------------------------------------------------------------
class Inputs:
    """A running hash of everything an image is made from."""

    def __init__(self, recipe: str) -> None:
        self._hash = hashlib.sha256(recipe.encode())

    def add(self, name: str, data: bytes) -> Inputs:
        self._hash.update(f"\0{name}\0{len(data)}\0".encode())
        self._hash.update(data)
        return self

    def add_file(self, name: str, path: Path) -> Inputs:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        return self.add(name, digest.digest())

    def add_tree(self, name: str, root: Path, *, ignore: Iterable[str] = ()) -> Inputs:
        for path in sorted(_tree_files(root, tuple(ignore))):
            self.add_file(f"{name}/{path.relative_to(root).as_posix()}", path)
        return self

    def hexdigest(self) -> str:
        return self._hash.hexdigest()[:32]


def _tree_files(root: Path, ignore: tuple[str, ...]) -> Iterator[Path]:
    for path in root.rglob("*"):
        parts = path.relative_to(root).parts
        if any(part in ignore or part.endswith((".pyc", ".db")) for part in parts):
            continue
        if path.is_file():
            yield path


def image_inputs(client: Any, tag: str) -> str | None:
    import docker.errors

    try:
        image = client.images.get(tag)
    except docker.errors.ImageNotFound:
        return None
    labels = image.labels or {}
    return str(labels.get(INPUTS_LABEL)) if labels.get(INPUTS_LABEL) else None


# -- building -----------------------------------------------------------------------------------------------------
@dataclass
class Outcome:
    tag: str
    inputs: str
    built: bool
    seconds: float


def docker_build(client: Any, context: Path, tag: str, *, inputs: str, network_mode: str, base: str,
                 buildargs: dict[str, str] | None = None) -> None:
    """`docker build` through the engine's API (the classic builder: no buildx needed), printing the steps."""
    previous = _image_id(client, tag)
    log: list[str] = []
    stream = client.api.build(
        path=str(context), tag=tag, rm=True, forcerm=True, pull=False, decode=True, network_mode=network_mode,
        buildargs={"BASE": base, **(buildargs or {})},
        labels={INPUTS_LABEL: inputs, "org.opencontainers.image.vendor": "digasec"},
    )
    for chunk in stream:
        text = str(chunk.get("stream") or chunk.get("status") or "")
        for line in text.splitlines():
            log.append(line)
            if line.startswith("Step "):
                say(f"  {line}")
        if "error" in chunk:
            tail = "\n".join(log[-40:])
            raise SystemExit(f"build: building {tag} failed: {chunk['error']}\n--- last lines ---\n{tail}")
    _drop_replaced(client, previous, tag)


def _image_id(client: Any, tag: str) -> str | None:
    import docker.errors

    try:
        return str(client.images.get(tag).id)
    except docker.errors.ImageNotFound:
        return None


def _drop_replaced(client: Any, previous: str | None, tag: str) -> None:
    """Remove the image a rebuild replaced, when nothing else uses it (keeps the disk from filling up)."""
    import docker.errors

    if previous and previous != _image_id(client, tag):
        with contextlib.suppress(docker.errors.APIError):
            client.images.remove(previous, noprune=False)


def build_base(client: Any, *, mirror: AptSource | None, force: bool) -> Outcome:
    started = time.monotonic()
    arch = _debian_arch()
    inputs = Inputs(f"base/{BASE_RECIPE}").add("suite", SUITE.encode()).add("arch", arch.encode()).hexdigest()
    if not force and image_inputs(client, BASE_TAG) == inputs:
        return Outcome(BASE_TAG, inputs, False, time.monotonic() - started)
    if shutil.which("debootstrap") is None:
        raise SystemExit("build: debootstrap is not installed: apt-get install debootstrap")
    if os.geteuid() != 0:
        raise SystemExit("build: debootstrap needs root: run images/build.sh as root (e.g. with sudo)")
    source = mirror or debian_mirror(SUITE)
    say(f"base: debootstrap {SUITE} (minbase, {arch}) from {source.uri}")
    with tempfile.TemporaryDirectory(prefix="digasec-rootfs-", dir=_scratch()) as scratch:
        rootfs = Path(scratch) / "rootfs"
        command = ["debootstrap", "--variant=minbase", f"--arch={arch}"]
        if source.signed_by and Path(source.signed_by).is_file():
            command.append(f"--keyring={source.signed_by}")
        command += [SUITE, str(rootfs), source.uri]
        _run(command, what="debootstrap")
        for leftover in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for path in (rootfs / leftover).glob("*"):
                if path.is_file():
                    path.unlink()
        archive = Path(scratch) / "rootfs.tar"
        _run(["tar", "-C", str(rootfs), "--numeric-owner", "-cf", str(archive), "."], what="tar of the root fs")
        previous = _image_id(client, BASE_TAG)
        repository, tag = BASE_TAG.split(":")
        client.api.import_image_from_file(
            str(archive), repository=repository, tag=tag,
            changes=[f"LABEL {INPUTS_LABEL}={inputs}", "ENV LANG=C.UTF-8", 'CMD ["/bin/bash"]'],
        )
        _drop_replaced(client, previous, BASE_TAG)
    return Outcome(BASE_TAG, inputs, True, time.monotonic() - started)


def build_keycloak(client: Any, *, version: str, base_inputs: str, java_home: Path | None, force: bool) -> Outcome:
    # The process launcher's build options: one source of truth for both launchers.
    from fixtures.target.launchers.keycloak import _BUILD_OPTIONS, KeycloakDistribution, find_java

    started = time.monotonic()
    tag = keycloak_tag(version)
    dockerfile = IMAGES / "keycloak" / "Dockerfile"
    distribution = KeycloakDistribution(version)
    java = find_java(str(java_home) if java_home else None)
    if not distribution.zip_path.exists():
        distribution.ensure(java)  # fetches the Maven artifact into the cache (and builds the process launcher's copy)
    inputs = (
        Inputs("keycloak/1").add("base", base_inputs.encode()).add_file("Dockerfile", dockerfile)
        .add("build options", " ".join(_BUILD_OPTIONS).encode())
        .add_file("distribution", distribution.zip_path)
        .add("jdk", str(java).encode() + _read(java / "release") + _read(java / "lib" / "security" / "cacerts"))
        .hexdigest()
    )
    if not force and image_inputs(client, tag) == inputs:
        return Outcome(tag, inputs, False, time.monotonic() - started)
    say(f"keycloak: {distribution.zip_path.name} with the Java runtime of {java}")
    with tempfile.TemporaryDirectory(prefix="digasec-kc-context-", dir=_scratch()) as scratch:
        context = Path(scratch)
        shutil.copy(dockerfile, context / "Dockerfile")
        _unzip_stripped(distribution.zip_path, context / "keycloak")
        # Links are followed: a distribution's JDK often links lib/security/cacerts to the system's trust store.
        shutil.copytree(java, context / "jdk", symlinks=False, ignore_dangling_symlinks=True,
                        ignore=shutil.ignore_patterns(*JDK_IGNORE))
        docker_build(client, context, tag, inputs=inputs, network_mode="none", base=BASE_TAG,
                     buildargs={"KC_BUILD_OPTIONS": " ".join(_BUILD_OPTIONS)})
    return Outcome(tag, inputs, True, time.monotonic() - started)


def demo_requirements() -> list[str]:
    import tomllib

    pyproject = tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))
    return [*pyproject["project"]["optional-dependencies"]["demo"], *DEMO_EXTRA_REQUIREMENTS]


def build_backend(client: Any, *, base_inputs: str, force: bool) -> Outcome:
    started = time.monotonic()
    dockerfile = IMAGES / "demo-backend" / "Dockerfile"
    requirements = "\n".join(demo_requirements()) + "\n"
    inputs = (
        Inputs("demo-backend/1").add("base", base_inputs.encode()).add_file("Dockerfile", dockerfile)
        .add_file("constraints.txt", PROJECT / "constraints.txt").add("requirements.txt", requirements.encode())
        .add_tree("demo", PROJECT / "demo", ignore=("__pycache__",))
        .hexdigest()
    )
    if not force and image_inputs(client, BACKEND_TAG) == inputs:
        return Outcome(BACKEND_TAG, inputs, False, time.monotonic() - started)
    say("demo-backend: wheels for Python 3.11 from the host's pip, then the image")
    with tempfile.TemporaryDirectory(prefix="digasec-demo-context-", dir=_scratch()) as scratch:
        context = Path(scratch)
        shutil.copy(dockerfile, context / "Dockerfile")
        shutil.copy(PROJECT / "constraints.txt", context / "constraints.txt")
        (context / "requirements.txt").write_text(requirements, encoding="utf-8")
        shutil.copytree(PROJECT / "demo", context / "demo",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.db"))
        _download_wheels(context / "wheels", context / "requirements.txt", context / "constraints.txt")
        docker_build(client, context, BACKEND_TAG, inputs=inputs, network_mode="host", base=BASE_TAG)
    return Outcome(BACKEND_TAG, inputs, True, time.monotonic() - started)


def _download_wheels(dest: Path, requirements: Path, constraints: Path) -> None:
    """Binary wheels for the image's Python (CPython 3.11, glibc 2.36), whatever Python runs this script."""
    machine = {"amd64": "x86_64", "arm64": "aarch64"}.get(_debian_arch(), platform.machine())
    platforms = [f"manylinux_2_{minor}_{machine}" for minor in range(36, 16, -1)] + [f"manylinux2014_{machine}"]
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--dest", str(dest),
               "--only-binary=:all:", "--implementation", "cp", "--python-version", PYTHON_IN_IMAGE,
               "--abi", "cp" + PYTHON_IN_IMAGE.replace(".", ""), "--abi", "abi3", "--abi", "none",
               "-c", str(constraints), "-r", str(requirements)]
    for name in platforms:
        command += ["--platform", name]
    _run(command, what="pip download")


# -- helpers ------------------------------------------------------------------------------------------------------
def say(message: str) -> None:
    sys.stdout.write(message + "\n")
    sys.stdout.flush()


def _debian_arch() -> str:
    machine = platform.machine().lower()
    return {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)


def _scratch() -> str:
    """Big temporary trees go to /var/tmp (disk) rather than /tmp (often a small tmpfs)."""
    return os.environ.get("DIGASEC_BUILD_TMP", "/var/tmp" if Path("/var/tmp").is_dir() else tempfile.gettempdir())


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def _run(command: list[str], *, what: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-30:])
        raise SystemExit(f"build: {what} failed (exit {result.returncode}): {' '.join(command[:4])} ...\n{tail}")


def _unzip_stripped(archive: Path, target: Path) -> None:
    """Unpack a zip whose entries share one top directory into `target`, keeping the Unix file modes."""
    with zipfile.ZipFile(archive) as bundle:
        for info in bundle.infolist():
            parts = Path(info.filename).parts[1:]
            if not parts or ".." in parts:
                continue
            path = target.joinpath(*parts)
            if info.is_dir():
                path.mkdir(parents=True, exist_ok=True)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            with bundle.open(info) as source, path.open("wb") as sink:
                shutil.copyfileobj(source, sink, 1 << 20)
            mode = (info.external_attr >> 16) & 0o777
            path.chmod(mode or 0o644)
    for script in (target / "bin").glob("*.sh"):
        script.chmod(0o755)


def engine() -> Any:
    import docker

    try:
        client = docker.from_env(timeout=600)
        client.ping()
    except docker.errors.DockerException as exc:
        raise SystemExit(
            f"build: no Docker engine answers ({exc}); start one (`dockerd --bridge=none`, Debian package "
            "docker.io) or set DOCKER_HOST"
        ) from None
    return client


def main(argv: list[str] | None = None) -> int:
    from fixtures.target.profile import KeycloakSettings

    parser = argparse.ArgumentParser(prog="images/build.sh", description=__doc__.split("\n\n")[0])
    parser.add_argument("--mirror", default=os.environ.get("DIGASEC_DEBIAN_MIRROR"),
                        help="Debian mirror for debootstrap (default: the one apt uses for bookworm main)")
    parser.add_argument("--only", action="append", choices=("base", "keycloak", "backend"),
                        help="build only these images (their base must exist)")
    parser.add_argument("--force", action="store_true", help="rebuild even when the inputs did not change")
    parser.add_argument("--keycloak-version", default=KeycloakSettings.model_fields["version"].default)
    parser.add_argument("--java-home", type=Path, default=None, help="Java 21+ to copy into the Keycloak image")
    args = parser.parse_args(argv)
    only = set(args.only or ("base", "keycloak", "backend"))
    mirror = AptSource(("deb",), args.mirror, (SUITE,), ("main",)) if args.mirror else None

    client = engine()
    started = time.monotonic()
    outcomes: list[Outcome] = []
    if "base" in only:
        outcomes.append(build_base(client, mirror=mirror, force=args.force))
        base_inputs = outcomes[-1].inputs
    else:
        base_inputs = image_inputs(client, BASE_TAG) or ""
        if not base_inputs:
            raise SystemExit(f"build: {BASE_TAG} does not exist yet; build it first (images/build.sh --only base)")
    if "keycloak" in only:
        outcomes.append(build_keycloak(client, version=args.keycloak_version, base_inputs=base_inputs,
                                       java_home=args.java_home, force=args.force))
    if "backend" in only:
        outcomes.append(build_backend(client, base_inputs=base_inputs, force=args.force))
    for outcome in outcomes:
        state = "built" if outcome.built else "up to date"
        say(f"{outcome.tag:32} {state:10} {outcome.seconds:7.1f} s  inputs {outcome.inputs}")
    say(f"total {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
