"""The recipes in docs/multi-worker.md say what the code does."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from healthprobe.engine.shared import ENV_VAR, LOCK_FILE

DOC = (Path(__file__).resolve().parents[2] / "docs" / "multi-worker.md").read_text()


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC, re.DOTALL)


def test_the_kubernetes_recipe_mounts_an_empty_dir_where_the_variable_points() -> None:
    (manifest,) = [yaml.safe_load(block) for block in blocks("yaml")]
    pod = manifest["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    env = {item["name"]: item["value"] for item in container["env"]}
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    (name,) = [n for n, path in mounts.items() if path == env[ENV_VAR]]
    assert "emptyDir" in volumes[name]
    assert "--workers" in container["args"]


def test_the_gunicorn_recipe_sets_the_variable_and_starts_each_worker() -> None:
    (conf,) = [b for b in blocks("python") if "gunicorn.conf.py" in b]
    assert f'"{ENV_VAR}"' in conf
    assert "def post_worker_init(worker):" in conf
    assert "health.start()" in conf
    compile(conf, "gunicorn.conf.py", "exec")
    assert f"`{LOCK_FILE}`" in DOC
