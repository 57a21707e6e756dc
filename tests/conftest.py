import os
from pathlib import Path

import pytest
import torch

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parent.parent
DEMO_DATA = REPO / "tlgui" / "demo_data"
SHARED_DATA = REPO.parent / "shared" / "data" / "hymenoptera"

torch.set_num_threads(min(2, torch.get_num_threads()))


@pytest.fixture(scope="session", autouse=True)
def isolated_cache(tmp_path_factory):
    """Decoded images, thumbnails and the app's run folders go to a temporary folder."""
    from tlgui.core.files import CACHE_ENV

    os.environ[CACHE_ENV] = str(tmp_path_factory.mktemp("tlgui-cache"))


@pytest.fixture(scope="session", autouse=True)
def isolated_qt_settings(tmp_path_factory):
    """Qt settings (recent projects, window layout) go to a temporary folder, not ~/.config."""
    from PySide6.QtCore import QCoreApplication, QSettings

    QCoreApplication.setOrganizationName("tlgui-tests")
    QCoreApplication.setApplicationName("tlgui-tests")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                      str(tmp_path_factory.mktemp("qt-settings")))


@pytest.fixture(autouse=True)
def collect_on_the_gui_thread(request):
    """As the app does: no automatic garbage collection on training or loader threads."""
    if "qtbot" not in request.fixturenames:
        yield
        return
    from tlgui.qt.interpreter import install

    install(request.getfixturevalue("qapp"))
    yield


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data set not found at {SHARED_DATA} (../shared/data/hymenoptera)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def default_model():
    from tlgui.core import load_model

    return load_model("default")
