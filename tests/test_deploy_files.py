"""What can be checked of the container files without a Docker engine or an image registry.

compose.yaml must parse and run only commands that exist in the project, pass only settings
the processes know, and keep its servers' data in volumes; the Dockerfile must install the
locked, hash-checked dependencies and copy every package the processes import. The lock
files must pin every dependency pyproject.toml names, within its range.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from core.settings import PROJECT_ROOT, Settings

COMPOSE = PROJECT_ROOT / "compose.yaml"
DOCKERFILE = PROJECT_ROOT / "Dockerfile"
DOCKERIGNORE = PROJECT_ROOT / ".dockerignore"
ENV_EXAMPLE = PROJECT_ROOT / ".env.example"
LOCK = PROJECT_ROOT / "requirements" / "lock.txt"
TEST_LOCK = PROJECT_ROOT / "requirements" / "lock-test.txt"
PYPROJECT = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())

PROJECT_IMAGE = "tg-inviter:"
# `python -m X` for these is a process of the project (each has a __main__.py).
PROCESSES = {"bot", "webui_api", "workers", "sandbox"}
# Variables compose.yaml reads from .env for itself, not settings of the processes.
COMPOSE_ONLY = {
    "POSTGRES_PASSWORD",
    "REDIS_PASSWORD",
    "TG_INVITER_TAG",
    "API_PUBLISH",
    "WEBHOOK_PUBLISH",
    "SANDBOX_PUBLISH",
    "SANDBOX_DEMO",
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


def _services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    services = compose["services"]
    assert isinstance(services, dict)
    return services


def _project_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in _services(compose).items()
        if str(service.get("image", "")).startswith(PROJECT_IMAGE)
    }


def _known_settings() -> set[str]:
    return {name.upper() for name in Settings.model_fields}


def _sandbox_variables() -> set[str]:
    # The sandbox reads its few variables itself, without the settings (sandbox/__main__.py).
    source = (PROJECT_ROOT / "sandbox" / "__main__.py").read_text()
    found = set(re.findall(r'os\.environ\.get\("([A-Z_]+)"', source))
    assert found, "no variables found in sandbox/__main__.py"
    return found


def test_compose_has_every_part_of_an_installation(compose: dict[str, Any]) -> None:
    services = _services(compose)
    assert {"postgres", "redis", "migrate", "api", "bot", "workers", "sandbox"} <= set(services)
    assert set(_project_services(compose)) == {"migrate", "api", "bot", "workers", "sandbox"}
    # The simulated Telegram only when asked for.
    assert services["sandbox"].get("profiles") == ["sandbox"]


@pytest.mark.parametrize(
    "name,volume_path",
    [
        ("postgres", "/var/lib/postgresql/data"),
        ("redis", "/data"),
    ],
)
def test_servers_keep_data_in_named_volumes_and_report_health(
    compose: dict[str, Any], name: str, volume_path: str
) -> None:
    service = _services(compose)[name]
    mounts = [str(v).split(":") for v in service["volumes"]]
    assert [m[1] for m in mounts] == [volume_path]
    assert mounts[0][0] in compose["volumes"]  # a named volume, not a host path
    assert service["healthcheck"]["test"][0] in {"CMD", "CMD-SHELL"}
    assert service["restart"] == "unless-stopped"


def test_every_project_service_runs_a_command_of_the_project(compose: dict[str, Any]) -> None:
    for name, service in _project_services(compose).items():
        argv = service["command"]
        assert isinstance(argv, list), f"{name}: command as a list, not a shell string"
        assert argv[:2] == ["python", "-m"], f"{name}: {argv}"
        module = argv[2]
        if module == "alembic":
            assert argv[3:] == ["upgrade", "head"], f"{name}: {argv}"
            assert (PROJECT_ROOT / "alembic.ini").exists()
            assert importlib.util.find_spec("alembic") is not None
            continue
        assert module in PROCESSES, f"{name}: python -m {module} is not a process of the project"
        spec = importlib.util.find_spec(f"{module}.__main__")
        assert spec is not None and spec.origin is not None, f"{name}: no {module}/__main__.py"
        assert Path(spec.origin).is_relative_to(PROJECT_ROOT)


def test_migrations_run_before_the_processes_and_after_postgres(compose: dict[str, Any]) -> None:
    services = _services(compose)
    migrate = services["migrate"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("api", "bot", "workers"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["redis"]["condition"] == "service_healthy", name


def test_workers_can_be_scaled(compose: dict[str, Any]) -> None:
    workers = _services(compose)["workers"]
    # A fixed container name or a published port would stop a second replica from starting.
    assert "container_name" not in workers
    assert "ports" not in workers
    assert "scale" not in workers and "deploy" not in workers


def test_every_variable_passed_is_a_known_setting(compose: dict[str, Any]) -> None:
    settings = _known_settings()
    sandbox_vars = _sandbox_variables()
    for name, service in _project_services(compose).items():
        environment = service.get("environment", {})
        assert isinstance(environment, dict), f"{name}: environment as a mapping"
        known = sandbox_vars if service["command"][2] == "sandbox" else settings
        unknown = sorted(set(environment) - known)
        assert not unknown, f"{name} passes variables no process reads: {unknown}"
        if name != "sandbox":
            # Everything else comes from .env, which the processes read as settings.
            assert service["env_file"] == ".env", name
            assert {"DATABASE_URL", "REDIS_URL"} <= set(environment), name


def test_compose_variables_are_settings_or_documented(compose: dict[str, Any]) -> None:
    text = COMPOSE.read_text()
    used = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", text))
    assert used, "compose.yaml interpolates nothing?"
    assert used <= COMPOSE_ONLY | _known_settings(), sorted(used - COMPOSE_ONLY)
    # The ones compose insists on (`:?`) are in .env.example, where people start.
    required = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*):\?", text))
    assert required == {"POSTGRES_PASSWORD", "REDIS_PASSWORD"}
    example = ENV_EXAMPLE.read_text()
    for variable in required:
        assert re.search(rf"^#?\s*{variable}=", example, re.MULTILINE), variable


# --- Dockerfile -------------------------------------------------------------------------------


def _dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) for each instruction, continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    out = []
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            instruction, _, rest = line.partition(" ")
            out.append((instruction.upper(), rest.strip()))
    return out


def test_dockerfile_installs_the_locked_dependencies_with_hashes() -> None:
    steps = _dockerfile()
    copies = [shlex.split(rest) for kind, rest in steps if kind == "COPY"]
    assert ["requirements/lock.txt", "/tmp/lock.txt"] in copies
    installs = [rest for kind, rest in steps if kind == "RUN" and "pip install" in rest]
    assert len(installs) == 1, installs
    argv = shlex.split(installs[0])
    assert "--require-hashes" in argv
    assert argv[argv.index("-r") + 1] == "/tmp/lock.txt"
    # Nothing resolved at build time besides the lock: no ranges, no `.` or extras.
    assert "--no-deps" in argv and "." not in argv


def test_dockerfile_image_is_slim_and_runs_as_a_user_without_privileges() -> None:
    steps = _dockerfile()
    base = dict(re.findall(r"ARG ([A-Z_]+)=(\S+)", DOCKERFILE.read_text()))
    assert base["PYTHON_IMAGE"].startswith("python:3.11-slim")
    kinds = [kind for kind, _ in steps]
    last_from = len(kinds) - 1 - kinds[::-1].index("FROM")
    users = [rest for kind, rest in steps[last_from:] if kind == "USER"]
    assert users and users[-1] not in {"root", "0"}
    assert kinds.index("USER", last_from) < kinds.index("CMD", last_from)


def _first_party_imports(package: Path) -> set[str]:
    tops = {p.name for p in PROJECT_ROOT.iterdir() if (p / "__init__.py").exists()}
    found: set[str] = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            found |= {name.split(".")[0] for name in names} & tops
    return found


def test_dockerfile_copies_every_package_the_processes_import() -> None:
    copied = {
        shlex.split(rest)[0].rstrip("/")
        for kind, rest in _dockerfile()
        if kind == "COPY" and not rest.startswith("--from")
    }
    ignored = {line.strip() for line in DOCKERIGNORE.read_text().splitlines()}
    for source in copied:
        assert (PROJECT_ROOT / source).exists(), f"COPY {source}: no such file"
        assert source not in ignored, f"COPY {source}, but .dockerignore leaves it out"
    needed = set(PROCESSES) | {"migrations"}
    todo = list(needed)
    while todo:
        for top in _first_party_imports(PROJECT_ROOT / todo.pop()) - needed:
            needed.add(top)
            todo.append(top)
    assert needed <= copied, f"not copied: {sorted(needed - copied)}"
    assert {"alembic.ini"} <= copied
    # Secrets and local data never reach the build context.
    assert {".env", ".data", ".git"} <= ignored


# --- lock files --------------------------------------------------------------------------------


def _pins(path: Path) -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) from a `uv pip compile --generate-hashes` file."""
    pins: dict[str, tuple[str, list[str]]] = {}
    current: str | None = None
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)", line)
        if match:
            current = canonicalize_name(match.group(1))
            pins[current] = (match.group(2), [])
        hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", line)
        if hashes and current is not None:
            pins[current][1].extend(hashes)
    return pins


@pytest.mark.parametrize("lock,extras", [(LOCK, []), (TEST_LOCK, ["test"])])
def test_lock_pins_every_dependency_within_its_range_with_hashes(
    lock: Path, extras: list[str]
) -> None:
    pins = _pins(lock)
    assert pins and all(hashes for _, hashes in pins.values()), "a pin without hashes"
    project = PYPROJECT["project"]
    wanted = list(project["dependencies"])
    for extra in extras:
        wanted += project["optional-dependencies"][extra]
    for line in wanted:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not in {lock.name}; run `make lock`"
        version = pins[name][0]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{lock.name} pins {requirement.name}=={version}, outside {requirement.specifier}; "
            "run `make lock`"
        )
    if not extras:
        assert "pytest" not in pins, "the runtime lock must not carry the test tools"
