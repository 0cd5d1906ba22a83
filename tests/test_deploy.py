"""The Docker and Kubernetes files: well-formed, consistent with each other and with the launcher.

This machine's Docker has no compose plugin, so these structural checks
stand in for `docker compose config`: they also catch drift between the
containers' engine flags and serving/engine.py, which `config` would not.
"""

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from framestamp.serving.engine import EngineConfig, engine_command

DOCKER = Path(__file__).parents[1] / "docker"
COMPOSE_FILES = ["compose.gpu.yml", "compose.replicas.yml"]


def load_compose(name):
    return yaml.safe_load((DOCKER / name).read_text())


def launcher_flags():
    """The flags serving/engine.py gives vLLM that the containers must give it too."""
    command = engine_command(EngineConfig(model="m"))
    return {"--trust-request-mm-kwargs", "--enable-prefix-caching", "--structured-outputs-config"} & set(command)


@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_compose_file_is_consistent(name):
    compose = load_compose(name)
    services = compose["services"]
    engines = {k: v for k, v in services.items() if k.startswith("engine")}
    assert engines and "framestamp" in services
    urls = services["framestamp"]["environment"]["FRAMESTAMP_ENGINE_URLS"].split(",")
    assert sorted(u.split("//")[1].split(":")[0] for u in urls) == sorted(engines)
    for engine in engines.values():
        command = " ".join(engine["command"])
        assert all(flag in command for flag in launcher_flags())
        assert "ports" not in engine  # the engine trusts request kwargs: never published
        devices = engine["deploy"]["resources"]["reservations"]["devices"]
        assert devices and all("gpu" in d["capabilities"] for d in devices)
    assert {"8000:8000", "7860:7860"} <= set(services["framestamp"]["ports"])
    declared = set(compose["secrets"])
    for service in services.values():
        assert set(service.get("secrets", [])) <= declared
    text = (DOCKER / name).read_text()
    assert not re.search(r"(api[-_]key|API_KEYS)[\"']?\s*[:=]\s*[\"']?[A-Za-z0-9]{12,}", text)  # no baked-in secrets
    build = services["framestamp"]["build"]
    assert (DOCKER / build["context"] / build["dockerfile"]).is_file()


def test_replicas_use_one_gpu_each():
    engines = {k: v for k, v in load_compose("compose.replicas.yml")["services"].items() if k.startswith("engine")}
    ids = [d["device_ids"] for e in engines.values() for d in e["deploy"]["resources"]["reservations"]["devices"]]
    assert len(engines) >= 2 and len({tuple(i) for i in ids}) == len(engines)


def test_prometheus_scrapes_adapter_and_engines():
    config = yaml.safe_load((DOCKER / "prometheus.yml").read_text())
    targets = {t for job in config["scrape_configs"] for sc in job["static_configs"] for t in sc["targets"]}
    assert "framestamp:8000" in targets and "engine:8000" in targets


def test_kubernetes_manifests():
    docs = [d for f in ("engines.yaml", "framestamp.yaml") for d in yaml.safe_load_all((DOCKER / "k8s" / f).read_text())]
    for doc in docs:
        assert doc["apiVersion"] and doc["kind"] and doc["metadata"]["name"]
    by_kind = {(d["kind"], d["metadata"]["name"]): d for d in docs}
    engines = by_kind[("StatefulSet", "engine")]
    container = engines["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert all(flag in " ".join(container["args"]) for flag in launcher_flags())
    assert by_kind[("Service", "engine")]["spec"]["clusterIP"] == "None"
    adapter = by_kind[("Deployment", "framestamp")]["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in adapter["env"]}
    hosts = [u.split("//")[1].split(":")[0] for u in env["FRAMESTAMP_ENGINE_URLS"].split(",")]
    assert hosts == [f"engine-{i}.engine" for i in range(engines["spec"]["replicas"])]
    kustomization = yaml.safe_load((DOCKER / "k8s" / "kustomization.yaml").read_text())
    assert all((DOCKER / "k8s" / r).is_file() for r in kustomization["resources"])


def test_dockerfile_copies_what_exists_and_entrypoint_parses():
    root = DOCKER.parent
    for line in (DOCKER / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (root / source).exists(), source
    subprocess.run(["sh", "-n", str(DOCKER / "entrypoint.sh")], check=True)
