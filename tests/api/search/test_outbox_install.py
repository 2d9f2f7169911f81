"""The search outbox listener is switched on where the API is built (`create_app`) and where the
command line starts (`lb ...`), never by importing a module: a process that only imports the
models, services or the app module writes no outbox rows and checks no versions."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

# Imports every module of the API (the migrations' scripts and `__main__` aside), asks SQLAlchemy
# whether the listener is registered, then builds the app the way `lb serve` does.
PROBE = """
import importlib, pkgutil, sys
from sqlalchemy import event
from sqlalchemy.orm import Session
import services.api
for module in pkgutil.walk_packages(services.api.__path__, "services.api."):
    if ".migrations." not in module.name and not module.name.endswith("__main__"):
        importlib.import_module(module.name)
from services.api.search import outbox
hooks = [("before_flush", outbox.write_outbox_rows), ("before_commit", outbox._check_versions)]
print("after imports:", [event.contains(Session, name, hook) for name, hook in hooks])
from pathlib import Path
from services.api.app import create_app
from services.common.settings import ApiSettings, AuthSettings, CoreSettings, DatabaseSettings, Settings
data = Path(sys.argv[1])
create_app(Settings(core=CoreSettings(env="test", data_dir=data, log_json=False),
                    database=DatabaseSettings(url=f"sqlite:///{data / 'probe.db'}"), auth=AuthSettings(secret_key="s" * 48),
                    api=ApiSettings(media_poll_s=0, search_relay_s=0)))
print("after create_app:", [event.contains(Session, name, hook) for name, hook in hooks])
"""


def test_no_import_registers_the_outbox_listener_and_building_the_app_does(tmp_path):
    done = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [line for line in done.stdout.splitlines() if line.startswith("after ")]
    assert lines == ["after imports: [False, False]", "after create_app: [True, True]"], done.stdout[-2000:]
