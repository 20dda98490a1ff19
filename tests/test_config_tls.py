"""A monitor's `tls` block: files found next to the config, mistakes reported at their key."""

from __future__ import annotations

from pathlib import Path

import pytest
import trustme

from tests.config_helpers import ConfigFiles, position_of
from upwatch.config.models import HttpMonitor

HEAD = 'version: 1\nmonitors:\n  - id: internal\n    name: Internal\n    url: "https://api.internal/"\n'


@pytest.fixture
def configs(tmp_path: Path) -> ConfigFiles:
    return ConfigFiles(tmp_path)


@pytest.fixture
def pki(tmp_path: Path) -> trustme.CA:
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    client = ca.issue_cert("upwatch@acme.internal")
    client.cert_chain_pems[0].write_to_path(str(tmp_path / "client.pem"))
    client.private_key_pem.write_to_path(str(tmp_path / "client.key"))
    other = trustme.CA().issue_cert("someone-else")
    other.private_key_pem.write_to_path(str(tmp_path / "other.key"))
    return ca


def test_relative_tls_files_are_found_next_to_the_config(
    configs: ConfigFiles, pki: trustme.CA, tmp_path: Path
) -> None:
    text = HEAD + "    tls: {ca_file: ca.pem, cert_file: client.pem, key_file: client.key}\n"

    monitor = configs.config(text).monitors[0]

    assert isinstance(monitor, HttpMonitor)
    assert monitor.tls is not None
    assert monitor.tls.ca_file == str(tmp_path / "ca.pem")
    assert monitor.tls.key_file == str(tmp_path / "client.key")


def test_a_missing_file_is_reported_at_its_key(configs: ConfigFiles, pki: trustme.CA) -> None:
    text = HEAD + "    tls: {ca_file: ca.pem, cert_file: nowhere.pem}\n"

    [problem] = configs.problems(text)

    assert problem.path == "monitors.0.tls.cert_file"
    assert "cannot read" in problem.message
    assert "nowhere.pem" in problem.message
    assert (problem.line, problem.col) == position_of(text, "nowhere.pem")


def test_a_key_that_does_not_match_its_certificate_is_a_config_error(
    configs: ConfigFiles, pki: trustme.CA
) -> None:
    text = HEAD + "    tls: {cert_file: client.pem, key_file: other.key}\n"

    [problem] = configs.problems(text)

    assert problem.path == "monitors.0.tls.key_file"
    assert "OpenSSL cannot use these certificates" in problem.message


def test_a_file_and_its_pem_twin_together_are_refused(
    configs: ConfigFiles, pki: trustme.CA
) -> None:
    text = HEAD + '    tls: {ca_file: ca.pem, ca_pem: "-----BEGIN CERTIFICATE-----"}\n'

    [problem] = configs.problems(text)

    assert problem.path == "monitors.0.tls.ca_file"
    assert "either ca_file or ca_pem" in problem.message


def test_a_key_pem_from_the_environment_is_a_secret(
    configs: ConfigFiles, pki: trustme.CA, tmp_path: Path
) -> None:
    cert = (tmp_path / "client.pem").read_text()
    key = (tmp_path / "client.key").read_text()
    text = HEAD + '    tls: {cert_pem: "${CLIENT_CERT}", key_pem: "${CLIENT_KEY}"}\n'

    loaded = configs.load(text, {"CLIENT_CERT": cert, "CLIENT_KEY": key})

    assert key in loaded.secrets
    assert "BEGIN" not in loaded.redact(f"loaded {key}")
