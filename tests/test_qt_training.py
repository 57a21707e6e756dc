"""Training in the app (issue 3): Stop mid-run, start again, plots fill, loop stays live."""


import pytest

from tlgui.qt.main_window import MainWindow
from tlgui.qt.train.stall_watch import StallWatch

from .helpers import make_image_folder


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    monkeypatch.setattr(QMessageBox, "question",
                        lambda *args: QMessageBox.StandardButton.Yes)  # closing mid-run
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.open_model("builtin:vgg64").done, timeout=30_000):
        pass
    data = make_image_folder(tmp_path / "data", per_class=16, val_per_class=4)
    form = win.training.form
    form.data_edit.setText(str(data))
    form.epochs.setValue(3)
    form.batch_size.setValue(4)
    form.cache.setCurrentText("off")
    form.augment.setCurrentText("light")
    return win


def test_stop_mid_run_then_train_to_the_end_with_live_plots(window, qtbot):
    panel = window.training
    with qtbot.waitSignal(panel.run_finished, timeout=120_000) as finished:
        panel.start_button.click()
        assert window.layer_model.locked and not panel.start_button.isEnabled()
        qtbot.waitUntil(lambda: bool(panel.series["batch_loss"]), timeout=60_000)
        panel.stop_button.click()
    assert finished.args[0]["stopped"] and not panel.is_running()
    assert "Stopped" in panel.status.text() and not window.layer_model.locked

    watch = StallWatch(interval_ms=10)
    watch.start()
    with qtbot.waitSignal(panel.run_finished, timeout=180_000) as finished:
        panel.start_button.click()
    watch.stop()
    info = finished.args[0]
    assert info["error"] is None and info["epochs"] == 3 and info["integrity_passed"]
    assert len(panel.series["train_loss"]) == 3 and len(panel.series["val_acc"]) == 3
    x, y = panel.curves["val_loss"].getData()
    assert list(x) == [1, 2, 3] and len(y) == 3
    assert len(panel.series["batch_loss"]) >= 3
    assert "integrity PASS" in panel.log.toPlainText()
    worst = watch.longest()[0]
    print(f"event loop: {len(watch.gaps)} ticks, longest gap {worst * 1000:.0f} ms")
    # generous: this proves the loop keeps running, not a speed (timings are for benchmarks)
    assert len(watch.gaps) > 20 and worst < 5, f"the window froze for {worst:.2f} s"


def test_bad_settings_are_reported_without_starting(window, tmp_path):
    panel = window.training
    good = panel.form.data_edit.text()
    panel.form.data_edit.setText("/no/such/folder")
    panel.start_button.click()
    assert not panel.is_running() and "data folder not found" in panel.status.text()
    panel.form.data_edit.setText(good)
    panel.form.unfreeze.setText("soon")
    panel.start_button.click()
    assert "look like 3:all" in panel.status.text() and not panel.is_running()
    assert "soon" in panel.form.unfreeze.toolTip()
    panel.form.unfreeze.setText("")
    panel.form.data_edit.setText(str(make_image_folder(tmp_path / "one", per_class=4,
                                                       val_per_class=2, classes=("red",))))
    panel.start_button.click()
    assert "a classifier needs at least two" in panel.status.text() and not panel.is_running()


def test_head_is_replaced_for_the_data_classes(window, qtbot, tmp_path):
    panel = window.training
    three = make_image_folder(tmp_path / "three", per_class=4, val_per_class=2,
                              classes=("blue", "green", "red"))
    panel.form.data_edit.setText(str(three))
    panel.form.epochs.setValue(1)
    with qtbot.waitSignal(panel.run_finished, timeout=120_000):
        panel.start_button.click()
    assert window.experiment.model.get_submodule("classifier.7").out_features == 3
    assert window.experiment.ops[-1] == {"op": "replace_head", "num_classes": 3}
    assert window.layer_model.tree.nodes["classifier.7"].output_shape == (1, 3)


def test_garbage_is_collected_on_the_gui_thread_only(qtbot, qapp):
    import gc
    import weakref

    from tlgui.qt.interpreter import install

    class Node:
        pass

    collector = install(qapp)
    assert not gc.isenabled()
    alive = []
    for _ in range(2000):  # cycles: only the collector can free them
        node = Node()
        node.me = node
        alive.append(weakref.ref(node))
    del node
    assert all(ref() is not None for ref in alive)  # the interpreter itself collected none
    assert collector.collect() in (0, 1, 2)  # a generation over its threshold was collected
    assert all(ref() is None for ref in alive)


def test_the_oldest_generation_is_collected_only_once_it_grew_by_a_quarter(qtbot, qapp):
    import gc

    from tlgui.qt.interpreter import MainThreadCollector

    collector = MainThreadCollector(interval_ms=60_000)
    assert collector.collect() in (-1, 0, 1, 2)
    gc.collect(2)
    collector._kept = len(gc.get_objects(generation=2))

    def over_threshold() -> None:
        for _ in range(gc.get_threshold()[2] + 1):
            gc.collect(1)  # each collection of generation 1 counts once towards the oldest

    over_threshold()
    assert collector.collect() != 2, "the oldest grew by nothing: a full collection waits"
    kept = [[] for _ in range(collector._kept // 4 + 1000)]  # containers that live on
    gc.collect(1)  # ... into the oldest generation
    over_threshold()
    assert collector.collect() == 2
    assert collector._kept >= len(kept)
    collector.stop()
    gc.disable()  # the app's own collector (conftest's) goes on collecting


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)])
def test_plots_are_readable_on_common_screens(qtbot, size):
    from PySide6.QtCore import QSettings

    QSettings().remove("window")  # a fresh layout, as on first start
    win = MainWindow()
    qtbot.addWidget(win)
    win.fit_to(*size)
    win.show()
    qtbot.waitExposed(win)
    panel = win.training
    qtbot.waitUntil(lambda: panel.loss_plot.height() > 0)
    assert (win.width(), win.height()) == size
    for plot in (panel.loss_plot, panel.acc_plot, panel.batch_plot):
        assert plot.height() >= 150 and plot.width() >= 200, (plot.width(), plot.height())


def test_tutorial_net_of_your_own_trains_in_the_app(qtbot, tmp_path):
    from .bad_inputs import tutorial_net_file

    win = MainWindow()
    qtbot.addWidget(win)
    spec = f"{tutorial_net_file(tmp_path)}:make"
    with qtbot.waitSignal(win.open_model(spec, "none", True).done, timeout=30_000):
        pass
    assert win.experiment.loaded.input_size == (3, 32, 32)
    assert win.layer_model.tree.nodes["fc1"].output_shape == (1, 120)
    form = win.training.form
    form.data_edit.setText(str(make_image_folder(tmp_path / "data", per_class=8,
                                                 val_per_class=2)))
    form.epochs.setValue(1)
    form.batch_size.setValue(4)
    with qtbot.waitSignal(win.training.run_finished, timeout=120_000) as finished:
        win.training.start_button.click()
    info = finished.args[0]
    assert info["error"] is None and info["epochs"] == 1 and info["integrity_passed"]
    assert not win.training.is_running() and win.training.start_button.isEnabled()


def test_the_form_shows_and_returns_every_gpu_setting(qtbot):
    from tlgui.core.config import TrainConfig
    from tlgui.qt.train.training_form import TrainingForm

    form = TrainingForm()
    qtbot.addWidget(form)
    assert not form.gpu_decode.isEnabled()  # it fills the image cache: off without it
    assert form.config().as_dict() == TrainConfig().as_dict()  # a new form shows the defaults
    assert form.amp.isChecked() and form.channels_last.isChecked()
    saved = TrainConfig(epochs=7, amp=False, channels_last=False, image_cache=True,
                        gpu_decode=True, deterministic=True, seed=11, device="cuda")
    form.set_config(saved)
    shown = form.config()
    for field in ("epochs", "amp", "channels_last", "image_cache", "gpu_decode",
                  "deterministic", "seed", "device"):
        assert getattr(shown, field) == getattr(saved, field), field
    form.image_cache.setChecked(False)
    assert not form.gpu_decode.isEnabled() and not form.config().gpu_decode


@pytest.mark.parametrize("low, high", [(1, 3), (0.8, 2.2), (1, 40), (0, 500)])
def test_epoch_axes_tick_whole_numbers_only(qtbot, low, high):
    from tlgui.qt.train.training_panel import WholeNumberAxis

    axis = WholeNumberAxis("bottom")
    ticks = [v for _, values in axis.tickValues(low, high, 400) for v in values]
    assert ticks and all(float(v).is_integer() and low <= v <= high for v in ticks)


def test_dataset_training_and_results_share_one_index_of_the_open_folder(window, qtbot):
    """The Dataset dock's index is what Training trains on and Results evaluates (the
    re-split of a single folder for another seed is tested in test_app_state)."""
    data = window.training.form.data_folder()
    with qtbot.waitSignal(window.dataset.index_ready, timeout=30_000):
        window.dataset.open_folder(data)
    shown = window.dataset.index
    assert window.state.data is shown and window.training.load_data() is shown
    assert window.training.evaluation_data() is shown
    window.training.form.epochs.setValue(1)
    with qtbot.waitSignal(window.training.run_finished, timeout=120_000):
        window.training.start_button.click()
    assert window.state.run_data is shown and window.training.evaluation_data() is shown
