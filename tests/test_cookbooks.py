"""Every cookbook's code runs: its Python blocks make the plugin, its shell blocks drive it."""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


def run_shell_block(block: str, cwd: Path, env: dict[str, str]) -> list[str]:
    outputs = []
    for line in block.strip().splitlines():
        words = shlex.split(line)
        assignments = dict(w.split("=", 1) for w in words if "=" in w and not w.startswith("-"))
        command = [w for w in words if w.split("=", 1)[0] not in assignments]
        if command[0] == "pytest":
            command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *command[1:]]
        else:
            command[0] = str(BIN / command[0])
        done = subprocess.run(
            command,
            cwd=cwd,
            env={**env, **assignments},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
        outputs.append(done.stdout)
    return outputs


@pytest.mark.slow
def test_writing_a_provider_plugin(tmp_path: Path) -> None:
    text = (ROOT / "cookbooks" / "writing-a-provider-plugin.md").read_text(encoding="utf-8")
    folder = tmp_path / "my-plugins"
    folder.mkdir()
    (folder / "acme.py").write_text("\n\n".join(blocks(text, "python")), encoding="utf-8")
    env = {**os.environ, "PORTAL_HOME": str(tmp_path / "home")}
    env.pop("PORTAL_PLUGINS_DIR", None)
    outputs = [out for block in blocks(text, "sh") for out in run_shell_block(block, tmp_path, env)]
    providers, sync, status, conformance = outputs
    assert "Acme Credit Union" in providers
    assert "acme" in sync and "250" in sync  # every transaction the sandbox holds
    assert "acme" in status
    assert "3 passed" in conformance
