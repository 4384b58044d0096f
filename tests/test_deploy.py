"""What an operator runs, as deploy/ ships it: the systemd units pass `systemd-analyze
verify` and start the installed command with options it takes; the container image's
install step installs the package with its PostgreSQL extra into a venv whose command
builds the shipped seeds (docker cannot run here: the step's own pip command is run in
a venv of the test's); the Kubernetes CronJob parses, its config.yaml is a valid one
with the state in PostgreSQL and the records and feeds in buckets, and every
environment variable it sets is one the code reads."""

from __future__ import annotations

import configparser
import contextlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from topicfeeds.cli import make_parser
from topicfeeds.config import parse_config

from .conftest import require_program
from .pgserver import PgServer
from .s3server import running_s3

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNITS = ("topicfeeds-watch.service", "topicfeeds-build.service", "topicfeeds-build.timer")
INSTALLED = "/srv/news/.venv/bin/topicfeeds"  # where the units expect the command


def unit(name: str) -> configparser.ConfigParser:
    parsed = configparser.ConfigParser(interpolation=None, strict=False)
    parsed.optionxform = str  # type: ignore[assignment,method-assign]
    parsed.read_string((DEPLOY / name).read_text(encoding="utf-8"))
    return parsed


def test_the_systemd_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    """verify needs the command each unit starts: the units are checked as shipped but
    for its path, this venv's command rather than /srv/news's."""
    analyze = require_program("systemd-analyze")
    command = Path(sys.executable).with_name("topicfeeds")
    for name in UNITS:
        text = (DEPLOY / name).read_text(encoding="utf-8")
        (tmp_path / name).write_text(text.replace(INSTALLED, str(command)), encoding="utf-8")
    checked = subprocess.run([analyze, "verify", *(str(tmp_path / n) for n in UNITS)],
                             capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert checked.returncode == 0 and checked.stderr == "", checked.stderr
    missing = subprocess.run([analyze, "verify", str(DEPLOY / "topicfeeds-build.service")],
                             capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    if not Path(INSTALLED).exists():  # the check is a real one: without the command it fails
        assert missing.returncode != 0 and "is not executable" in missing.stderr


@pytest.mark.parametrize("name", ["topicfeeds-watch.service", "topicfeeds-build.service"])
def test_each_unit_starts_the_command_with_options_it_takes(name: str) -> None:
    start = shlex.split(unit(name)["Service"]["ExecStart"])
    assert start[0] == INSTALLED
    args = make_parser().parse_args(start[1:])  # exits 2 on an option the command does not take
    assert args.command == name.split("-")[1].split(".")[0]
    assert args.config == "/srv/news/config.yaml"
    assert unit("topicfeeds-build.timer")["Timer"]["OnCalendar"] == "*:0/5"


def containerfile() -> dict[str, list[str]]:
    """The Containerfile's instructions, each with its lines, continuations joined."""
    text = re.sub(r"\\\n\s*", " ", (DEPLOY / "Containerfile").read_text(encoding="utf-8"))
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.setdefault(word, []).append(rest.strip())
    return found


def test_the_image_runs_the_command_as_another_user_than_root() -> None:
    steps = containerfile()
    assert all(image.startswith("python:3.") and "slim" in image for image in steps["FROM"])
    (user,) = steps["USER"]
    assert user not in ("root", "0")
    (entry,) = steps["ENTRYPOINT"]
    assert yaml.safe_load(entry) == ["/opt/topicfeeds/bin/topicfeeds"]
    (cmd,) = steps["CMD"]
    assert make_parser().parse_args(yaml.safe_load(cmd)).command == "build"


@pytest.mark.slow
def test_the_image_s_install_step_installs_a_command_that_builds(tmp_path: Path) -> None:
    """The image's RUN step, its pip command as written, into a venv of the test's with
    /src this repository. The venv gets the dependencies from this one's (a .pth file),
    so that nothing but the package itself is installed here: what is checked is the
    step's command, the `postgresql` extra it names and the entry point it makes."""
    (step,) = [s for s in containerfile()["RUN"] if "pip install" in s]
    making, installing = (shlex.split(part) for part in step.split("&&"))
    assert making[:3] == ["python", "-m", "venv"]
    assert installing[:2] == [f"{making[3]}/bin/pip", "install"] and installing[-1] == "/src[postgresql]"
    options = installing[2:-1]
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    site = Path(sysconfig.get_path("purelib"))
    inner = next((venv / "lib").glob("python3*/site-packages"))
    (inner / "dependencies.pth").write_text(f"{site}\n", encoding="utf-8")
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", *options,
         f"{ROOT}[postgresql]"],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    assert (inner / "topicfeeds").is_dir()  # the package itself, not this checkout's
    site_copy = tmp_path / "site"
    shutil.copytree(ROOT / "seeds", site_copy / "seeds")
    shutil.copy(ROOT / "config.yaml", site_copy / "config.yaml")
    command = venv / "bin" / "topicfeeds"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    built = subprocess.run([str(command), "build", "--config", str(site_copy / "config.yaml")],
                           capture_output=True, text=True, timeout=300, check=False, env=env)  # fmt: skip
    assert built.returncode == 0, built.stderr
    assert built.stdout.startswith("topicfeeds: 28 files: 28 written")
    code = "import psycopg, topicfeeds; print(topicfeeds.__file__)"
    found = subprocess.run([str(venv / "bin" / "python"), "-c", code],
                           capture_output=True, text=True, timeout=60, check=True, env=env)  # fmt: skip
    assert found.stdout.startswith(str(inner))


def cronjob() -> tuple[dict[str, Any], dict[str, Any]]:
    config_map, job = yaml.safe_load_all((DEPLOY / "k8s-cronjob.yaml").read_text(encoding="utf-8"))
    assert (config_map["kind"], job["kind"]) == ("ConfigMap", "CronJob")
    return config_map, job


def read_by_the_code() -> str:
    """Where the names of the environment variables the run reads are: libpq (in
    psycopg's wheel), botocore's sources and this package's."""
    import botocore
    import psycopg_binary

    libs = Path(psycopg_binary.__file__).parent.parent / "psycopg_binary.libs"
    texts = [p.read_bytes().decode("latin-1") for p in libs.glob("libpq*")]
    texts += [p.read_text(encoding="utf-8") for p in Path(botocore.__file__).parent.glob("*.py")]
    texts += [p.read_text(encoding="utf-8") for p in (ROOT / "src").rglob("*.py")]
    return "\n".join(texts)


def test_the_cronjob_builds_with_its_state_in_postgresql_and_credentials_from_a_secret(
    tmp_path: Path,
) -> None:
    config_map, job = cronjob()
    config = parse_config(config_map["data"]["config.yaml"], tmp_path / "config.yaml")
    assert config.state_db is not None and config.state_db.url == "postgresql://"
    assert config.state_path is None
    assert config.records_url is not None and config.output_url is not None
    assert job["spec"]["concurrencyPolicy"] == "Forbid"
    pod = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    (container,) = pod["containers"]
    args = make_parser().parse_args(container["args"])
    assert args.command == "build"
    mount = container["volumeMounts"][0]
    assert args.config == mount["mountPath"] and mount["subPath"] == "config.yaml"
    env = {e["name"]: e for e in container["env"]}
    assert {"PGHOST", "PGUSER", "PGPASSWORD", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} <= set(env)
    for secret in ("PGPASSWORD", "AWS_SECRET_ACCESS_KEY"):
        assert "value" not in env[secret] and env[secret]["valueFrom"]["secretKeyRef"]["name"] == "topicfeeds"
    code = read_by_the_code()
    unread = [name for name in env if not re.search(rf"\b{name}\b", code)]
    assert unread == [], f"set but read by nothing: {unread}"


@pytest.mark.slow
def test_the_cronjob_s_config_and_environment_build_from_a_bucket_into_postgresql(
    tmp_path: Path, pg_server: PgServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The job as shipped, run here: the ConfigMap's config.yaml but for where the
    buckets are (the test's S3 for AWS's), the container's command and its environment,
    the Secret's keys given test values (PGPORT added: the server is not on 5432). The
    job asks libpq for TLS (PGSSLMODE=require), so the server is given a certificate for
    the test. The state lands in PostgreSQL under the schema the config names, the feeds
    in the output bucket, and a second job, on another fresh disk, has nothing to do."""
    config_map, job = cronjob()
    shipped = config_map["data"]["config.yaml"]
    aws = "  region: eu-west-1\n"
    assert aws in shipped
    (container,) = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    secret = {"PGHOST": "127.0.0.1", "PGDATABASE": "postgres", "PGUSER": "postgres", "PGPASSWORD": "unused",
              "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}  # fmt: skip
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "PGPORT": str(pg_server.port),
           "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_CONFIG_FILE": "/nonexistent"}  # fmt: skip
    for item in container["env"]:
        env[item["name"]] = (
            item["value"] if "value" in item else secret[item["valueFrom"]["secretKeyRef"]["key"]]
        )
    assert env["PGSSLMODE"] == "require"
    command = [str(Path(sys.executable).with_name("topicfeeds")), *container["args"]]
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SHARED_CREDENTIALS_FILE",
        "AWS_CONFIG_FILE",
    ):
        monkeypatch.setenv(name, env[name])  # for the test's own client
    with running_s3() as s3, tls(pg_server, tmp_path):
        client = s3.client()
        for bucket in ("news-records", "news-feeds"):
            client.create_bucket(Bucket=bucket)
        for record in sorted((ROOT / "seeds").iterdir()):
            client.put_object(Bucket="news-records", Key=f"records/{record.name}", Body=record.read_bytes())
        time.sleep(2.1)  # older than the racy window: the second run's "read" counts what was never stored
        for n in (1, 2):  # each on a fresh disk: nothing of the first is left for the second
            disk = tmp_path / f"disk{n}"
            disk.mkdir()
            config = disk / "config.yaml"
            config.write_text(
                shipped.replace(aws, f"{aws}  endpoint: {s3.direct}\n  addressing_style: path\n")
            )
            args = [a.replace(container["volumeMounts"][0]["mountPath"], str(config)) for a in command]
            ran = subprocess.run([*args, "--json"], capture_output=True, text=True, timeout=120, check=False,
                                 cwd=disk, env=env)  # fmt: skip
            assert ran.returncode == 0, ran.stderr
            assert sorted(p.name for p in disk.iterdir()) == ["config.yaml"]  # no state file, no lock file
            report = json.loads(ran.stdout)
            if n == 1:
                assert report["read"] == 15 and len(report["written"]) == 12, ran.stdout
            else:  # the state was in PostgreSQL: not a record read again, not a file sent
                assert report["read"] == 0 and report["written"] == [], ran.stdout
        listed = client.list_objects_v2(Bucket="news-feeds", Prefix="feeds/")
        assert {"feeds/climate.atom", "feeds/energy.atom", "feeds/topics.opml"} <= {
            o["Key"] for o in listed["Contents"]
        }
        files = pg_server.psql("SELECT COUNT(*) FROM news.files")
        assert files == str(len(list((ROOT / "seeds").iterdir())))
    pg_server.psql("DROP SCHEMA news CASCADE")


@contextlib.contextmanager
def tls(server: PgServer, folder: Path) -> Iterator[None]:
    """The server takes TLS connections (a self-signed certificate) for the block."""
    openssl = require_program("openssl")
    key, cert = server.root / "tls.key", server.root / "tls.crt"
    made = [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1"]
    subprocess.run(
        [*made, "-keyout", str(key), "-out", str(cert)], capture_output=True, check=True, timeout=60
    )
    owner = server.root.stat()
    for path in (key, cert):
        os.chown(path, owner.st_uid, owner.st_gid)
    key.chmod(0o600)
    settings = {"ssl_cert_file": cert, "ssl_key_file": key, "ssl": "on"}
    for name, value in settings.items():
        server.psql(f"ALTER SYSTEM SET {name} = '{value}'")
    server.psql("SELECT pg_reload_conf()")
    try:
        deadline = time.monotonic() + 30
        while server.psql("SHOW ssl") != "on":  # the reload is the server's to do, in its time
            assert time.monotonic() < deadline, (server.root / "server.log").read_text()
            time.sleep(0.05)
        yield
    finally:
        for name in settings:
            server.psql(f"ALTER SYSTEM RESET {name}")
        server.psql("SELECT pg_reload_conf()")
