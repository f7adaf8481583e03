"""The ready Collector configurations in ``exporters/collector/``: their structure (no
Collector binary can be installed here, so it is checked as the Collector would read it)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

yaml = pytest.importorskip("yaml")

CONFIGS = sorted((Path(__file__).parents[1] / "exporters" / "collector").glob("*.yaml"))
#: Component types of the contrib distribution (otelcol-contrib) the configs may use.
KNOWN = {
    "receivers": {"otlp", "otlpjsonfile", "filelog", "hostmetrics"},
    "processors": {"batch", "memory_limiter", "resourcedetection", "attributes", "filter"},
    "exporters": {"otlp", "otlphttp", "debug", "file", "loadbalancing"},
    "extensions": {"file_storage", "health_check", "zpages"},
}


def kind(name: str) -> str:
    """``otlphttp/otelfeedback`` -> ``otlphttp``."""
    return name.split("/", 1)[0]


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_collector_config_is_complete_and_consistent(path: Path) -> None:
    config: dict[str, Any] = yaml.safe_load(path.read_text())
    assert set(config) <= {"receivers", "processors", "exporters", "extensions", "service"}
    pipelines = config["service"]["pipelines"]
    assert pipelines and all(
        name.split("/")[0] in ("traces", "logs", "metrics") for name in pipelines
    )
    used: dict[str, set[str]] = {"receivers": set(), "processors": set(), "exporters": set()}
    for pipeline in pipelines.values():
        assert pipeline["receivers"] and pipeline["exporters"]
        for section, names in used.items():
            for name in pipeline.get(section, []):
                assert name in (config.get(section) or {}), f"{section} {name!r} is not defined"
                names.add(name)
    for section, names in used.items():
        assert set(config.get(section) or {}) == names, f"unused {section}"
    extensions = config.get("extensions") or {}
    assert set(config["service"].get("extensions", [])) == set(extensions)
    for section, known in KNOWN.items():
        for name in config.get(section) or {}:
            assert kind(name) in known, f"{section} {name!r}: not a contrib component"
    # Queues on disk name a defined storage extension; endpoints come from the environment.
    for name, exporter in (config.get("exporters") or {}).items():
        storage = ((exporter or {}).get("sending_queue") or {}).get("storage")
        assert storage is None or storage in extensions, name
        endpoint = (exporter or {}).get("endpoint", "")
        assert re.fullmatch(r"\$\{env:[A-Z_]+\}", endpoint), f"{name}: endpoint {endpoint!r}"
    for name, receiver in (config.get("receivers") or {}).items():
        for protocol in ((receiver or {}).get("protocols") or {}).values():
            assert protocol["endpoint"].startswith("127.0.0.1:"), f"{name}: binds beyond loopback"


def test_the_fan_out_sends_to_otelfeedback_with_the_token_and_a_lasting_queue() -> None:
    config = yaml.safe_load((CONFIGS[0].parent / "fan-out.yaml").read_text())
    ours = config["exporters"]["otlphttp/otelfeedback"]
    assert ours["headers"]["authorization"] == "Bearer ${env:OTELFEEDBACK_SERVER_TOKEN}"
    assert ours["retry_on_failure"]["enabled"] and ours["sending_queue"]["storage"]
    (pipeline,) = config["service"]["pipelines"].values()
    assert set(pipeline["exporters"]) == {"otlphttp/backend", "otlphttp/otelfeedback"}
