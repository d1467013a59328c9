"""`pip install .` gives a working streamrec outside the checkout: the wheel holds every package,
the topic declarations and the Feast repository, and the console script."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    source, out = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("wheel")
    for name in ("pyproject.toml", "README.md", "topics.yaml"):  # a clean copy: the build writes next to it
        shutil.copy(ROOT / name, source / name)
    for name in ("streams", "models", "serving", "bench", "feature_repo"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(source)],
        check=True,
        timeout=300,
    )
    [built] = out.glob("streamrec-*.whl")
    return zipfile.ZipFile(built)


def test_the_wheel_ships_the_packages_topics_and_feature_repo(wheel):
    project_root = ROOT
    names = set(wheel.namelist())
    for package in (
        "streams/core/settings.py",
        "streams/kafka/runner.py",
        "models/bandits.py",
        "serving/main.py",
        "serving/routers/recommend.py",
        "bench/report.py",
    ):
        assert package in names, package
    data = "streamrec-0.1.0.data/data/share/streamrec/"
    assert wheel.read(data + "topics.yaml") == (project_root / "topics.yaml").read_bytes()
    for path in (project_root / "feature_repo").glob("*.py"):
        assert wheel.read(data + f"feature_repo/{path.name}") == path.read_bytes()
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "streamrec = streams.cli.main:main" in wheel.read(entry_points).decode()


def test_an_installed_copy_finds_its_data_without_a_checkout(tmp_path):
    """Settings as an installed wheel sees it: no pyproject.toml next to the packages."""
    script = (
        "import sys, pathlib; import streams.core.settings as s\n"
        "s.SOURCE_ROOT = pathlib.Path(sys.argv[1]); s.SHARED_DATA = pathlib.Path(sys.argv[2])\n"
        "print(s._project_root(), s._shipped('topics.yaml'))"
    )
    shared = tmp_path / "share"
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "site"), str(shared)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    root, topics = done.stdout.split()
    assert root == str(tmp_path) and topics == str(shared / "topics.yaml")
